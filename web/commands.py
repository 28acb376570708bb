"""Publish case commands from the web process to the command topic, where the single case writer applies them, and
put resolved queue items back on their topics."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from core import topics
from core.cases import CaseCommand
from dispatch.cases.signing import CommandSigner
from web.settings import WebSettings


class CommandPublisher:
    """An idempotent producer keyed by case id, so one case's commands stay in order; it signs every command (the
    caller authenticated the person first)."""

    def __init__(self, settings: WebSettings) -> None:
        self._topic = settings.topic(topics.CASE_COMMANDS.name)
        self._signer = CommandSigner.of(settings)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            client_id="gridcmd-web-commands",
            **settings.kafka_options(),
        )

    async def start(self) -> None:
        """Connect."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def send(self, command: CaseCommand) -> None:
        """Sign, publish and wait for the broker's acknowledgement."""
        await self._producer.send_and_wait(self._topic, self._signer.record(command), key=str(command.case_id).encode())

    async def republish(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Put a resolved queue item back on a topic (its full name), waiting for the acknowledgement."""
        await self._producer.send_and_wait(topic, value, key=key)
