"""Run the stream processor: `python -m streams worker -l info`."""

import sys

from streams.app import create_app
from streams.settings import StreamSettings


def main() -> None:
    """Build settings and the app, then hand over to faust's command line (never with its web server)."""
    if "worker" in sys.argv and "--with-web" not in sys.argv and "--without-web" not in sys.argv:
        sys.argv.append("--without-web")
    create_app(StreamSettings()).main()


if __name__ == "__main__":
    main()
