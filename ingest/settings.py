"""Settings of the intake."""

from __future__ import annotations

from pydantic import SecretStr

from dispatch.settings import AuthSettings, sasl_options


class IngestSettings(AuthSettings):
    """GRID_* variables read once when the intake starts."""

    produce_timeout_ms: int = 10_000
    category_reload_seconds: float = 30.0
    """How often the intake re-reads the category table it checks events against."""
    intake_kafka_username: str = ""
    """The intake's own broker user (it may write events only); unset, it logs in as the process does."""
    intake_kafka_password: SecretStr = SecretStr("")

    def intake_kafka_options(self) -> dict[str, str]:
        """The intake publisher's login to the broker."""
        if not self.intake_kafka_username:
            return self.kafka_options()
        return sasl_options(
            self.intake_kafka_username, self.intake_kafka_password.get_secret_value(), self.kafka_mechanism
        )
