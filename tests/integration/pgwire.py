"""A counting proxy between a web server and PostgreSQL: every message the server sends the database goes through
it, and it counts the statements executed (extended protocol Execute, simple Query) and the round trips (Sync,
Query), with the SQL of each. Honest where server statistics are not at hand (pg_stat_statements needs a
superuser): it sees exactly what leaves the web process, pool resets included.

The proxy runs its own event loop in a thread, so it serves while a test blocks (a server starting up)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.integration.harness import free_port

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


@dataclass
class Traffic:
    """What the clients asked of the database so far."""

    statements: list[str] = field(default_factory=list)
    """The SQL of each statement executed, in order (simple queries included)."""
    round_trips: int = 0
    """Sync and Query messages: each waits for the server's ReadyForQuery."""
    simple_queries: int = 0


class _Connection:
    """Parses one client's side of the protocol (after an optional SSL/GSS request, the startup message)."""

    def __init__(self, traffic: Traffic, lock: threading.Lock) -> None:
        self.traffic, self.lock = traffic, lock
        self.buf = bytearray()
        self.started = False
        self.prepared: dict[str, str] = {"": ""}
        self.portals: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        self.buf += data
        while True:
            if not self.started:
                if len(self.buf) < 8 or len(self.buf) < (n := struct.unpack_from("!I", self.buf)[0]):
                    return
                code = struct.unpack_from("!I", self.buf, 4)[0]
                self.started = code not in (SSL_REQUEST, GSSENC_REQUEST)
                del self.buf[:n]
                continue
            if len(self.buf) < 5 or len(self.buf) < 1 + (n := struct.unpack_from("!I", self.buf, 1)[0]):
                return
            kind, body = chr(self.buf[0]), bytes(self.buf[5 : 1 + n])
            del self.buf[: 1 + n]
            with self.lock:
                self._message(kind, body)

    def _message(self, kind: str, body: bytes) -> None:
        parts = body.split(b"\0")
        if kind == "P":  # Parse: statement name, query
            self.prepared[parts[0].decode()] = parts[1].decode()
        elif kind == "B":  # Bind: portal name, statement name
            self.portals[parts[0].decode()] = parts[1].decode()
        elif kind == "E":  # Execute: portal name
            statement = self.portals.get(parts[0].decode(), "")
            self.traffic.statements.append(self.prepared.get(statement, "?"))
        elif kind == "Q":
            self.traffic.statements.append(parts[0].decode())
            self.traffic.simple_queries += 1
            self.traffic.round_trips += 1
        elif kind == "S":
            self.traffic.round_trips += 1


class CountingProxy:
    """Listens on a free port and forwards to the database, counting what clients send."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._traffic = Traffic()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def snapshot(self) -> Traffic:
        """A copy of the counts so far."""
        with self._lock:
            t = self._traffic
            return Traffic(list(t.statements), t.round_trips, t.simple_queries)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.target)
        parser = _Connection(self._traffic, self._lock)

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(65536):
                    if count:
                        parser.feed(data)
                    writer.write(data)
                    await writer.drain()
            writer.close()

        await asyncio.gather(pump(client_r, server_w, True), pump(server_r, client_w, False))

    @contextlib.contextmanager
    def running(self) -> Iterator[CountingProxy]:
        """Serve for the duration of the block."""
        self._thread.start()
        self._ready.wait(10)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
