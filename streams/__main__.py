"""Run the stream processor: `python -m streams worker -l info`."""

from streams.app import create_app
from streams.settings import StreamSettings


def main() -> None:
    """Build settings and the app, then hand over to faust's command line."""
    create_app(StreamSettings()).main()


if __name__ == "__main__":
    main()
