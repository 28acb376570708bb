"""A counting proxy in front of PostgreSQL: every message a client sends the database goes through it, and it
records the statements run (simple Query, extended-protocol Execute) with the SQL of each, and the round trips
(Sync, Query). Honest where server statistics are not at hand (pg_stat_statements needs a superuser): it sees
exactly what leaves the client process, pool resets included.

    with CountingProxy(database_url) as proxy:  # point the client at proxy.url
        before = proxy.traffic()
        ...
        spent = proxy.traffic().executes - before.executes

The proxy serves from threads of its own, so it keeps serving while a test blocks (a server starting up)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

REQUEST_MAJOR = 1234
"""The major version of the codes of requests sent before the startup message (SSL, GSS, cancel)."""


@dataclass(frozen=True)
class Traffic:
    """What the clients had asked of the database at one moment, counted from the proxy's start."""

    statements: tuple[str, ...]
    """The SQL of each statement run (Query and Execute messages), in order."""
    executes: int
    """Statements run with the extended protocol (Execute), leaving out simple queries such as a pool's reset."""
    round_trips: int
    """Sync and Query messages: each waits for the server's ReadyForQuery."""

    @property
    def simple_queries(self) -> int:
        """Statements run with the simple protocol (Query messages)."""
        return len(self.statements) - self.executes


class _Recorder:
    """What the clients sent so far, shared by the connections under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statements: list[str] = []
        self.executes = 0
        self.round_trips = 0


class _Connection:
    """Splits one client's bytes into protocol messages and records its statements and round trips."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder
        self._buffer = bytearray()
        self._started = False
        self._prepared: dict[bytes, str] = {}
        self._portals: dict[bytes, bytes] = {}

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes the client sent; record the messages they complete."""
        self._buffer += chunk
        while True:
            head = 1 if self._started else 0  # a type byte, except before the startup message (requests, then it)
            if len(self._buffer) < head + 4:
                return
            end = head + struct.unpack_from("!I", self._buffer, head)[0]  # the length counts itself, not the type
            if len(self._buffer) < end:
                return
            message = bytes(self._buffer[:end])
            del self._buffer[:end]
            if self._started:
                self._message(message[:1], message[5:])
            else:  # int32 length, int32 code: SSL, GSS or cancel request, or the startup message's protocol version
                self._started = struct.unpack_from("!I", message, 4)[0] >> 16 != REQUEST_MAJOR

    def _message(self, kind: bytes, body: bytes) -> None:
        fields = body.split(b"\0", 2)  # the names and SQL lead their messages
        if kind == b"P":  # Parse: statement name, SQL
            self._prepared[fields[0]] = fields[1].decode(errors="replace")
        elif kind == b"B":  # Bind: portal name, statement name
            self._portals[fields[0]] = fields[1]
        elif kind == b"E":  # Execute: portal name
            sql = self._prepared.get(self._portals.get(fields[0], b""), "?")
            with self._recorder.lock:
                self._recorder.statements.append(sql)
                self._recorder.executes += 1
        elif kind == b"Q":  # Query: SQL
            with self._recorder.lock:
                self._recorder.statements.append(fields[0].decode(errors="replace"))
                self._recorder.round_trips += 1
        elif kind == b"S":  # Sync
            with self._recorder.lock:
                self._recorder.round_trips += 1


class CountingProxy:
    """Forwards connections on a free local port to the database of `database_url`, counting what clients send."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
        query = f"{parts.query}&sslmode=disable" if parts.query else "sslmode=disable"
        self.url: str = urlunsplit(parts._replace(netloc=netloc, query=query))
        """The database URL through the proxy (without SSL, so that the proxy can read the messages)."""
        self._recorder = _Recorder()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self._listener]
        self._closed = False
        threading.Thread(target=self._accept, name="pgwire-accept", daemon=True).start()

    def traffic(self) -> Traffic:
        """What clients have sent so far."""
        with self._recorder.lock:
            r = self._recorder
            return Traffic(tuple(r.statements), r.executes, r.round_trips)

    def close(self) -> None:
        """Stop listening and cut every connection."""
        with self._lock:
            sockets, self._sockets, self._closed = self._sockets, [], True
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked on it, which close alone may not
            sock.close()

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                closed = self._closed
                if not closed:
                    self._sockets += [client, upstream]
            if closed:
                client.close()
                upstream.close()
                return
            connection = _Connection(self._recorder)
            threading.Thread(target=_pipe, args=(client, upstream, connection.feed), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client, None), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket, inspect: Callable[[bytes], None] | None) -> None:
    """Copy `src` to `dst` until either ends, showing each chunk to `inspect` first."""
    try:
        while chunk := src.recv(65536):
            if inspect is not None:
                inspect(chunk)
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
