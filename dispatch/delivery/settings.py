"""Settings of the delivery process and the local sink (GRID_* variables)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr

from dispatch.delivery.backoff import Backoff
from dispatch.settings import CommonSettings


class DeliverySettings(CommonSettings):
    """Where the SMS gateway is and how deliveries are claimed, retried and given up."""

    sms_url: str = ""
    """The SMS gateway's HTTP endpoint (empty: SMS deliveries wait, unsent)."""
    sms_api_key: SecretStr = SecretStr("")
    sms_sign: str = "镇村治理"
    """The registered signature (签名) every SMS carries."""
    sms_template: str = "SMS_GRID_NOTICE"
    """The provider's template id; its parameters are kind, case and text."""
    delivery_batch: int = 20
    delivery_poll_seconds: float = 0.5
    delivery_lease_seconds: float = 60.0
    """How long a claimed delivery stays with the process that claimed it before another may try it again."""
    delivery_timeout_seconds: float = 10.0
    delivery_backoff_seconds: float = 5.0
    delivery_backoff_cap_seconds: float = 600.0
    delivery_max_attempts: int = 8
    sink_port: int = 8025
    """The local sink's port on 127.0.0.1 (make run)."""

    @property
    def backoff(self) -> Backoff:
        """The retry policy."""
        return Backoff(
            timedelta(seconds=self.delivery_backoff_seconds),
            timedelta(seconds=self.delivery_backoff_cap_seconds),
            self.delivery_max_attempts,
        )

    @property
    def lease(self) -> timedelta:
        """The claim's lease."""
        return timedelta(seconds=self.delivery_lease_seconds)
