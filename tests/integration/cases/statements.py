"""A TCP proxy in front of PostgreSQL that counts the statements its clients run: one per Query message (the simple
protocol, as asyncpg's connection reset uses) and one per Execute message (the extended protocol)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

PROTOCOL_3 = 196608
"""The startup message's protocol code; before it, requests (SSL, GSS, cancel) have no type byte."""


class Messages:
    """Splits the bytes a client sends into protocol messages and names their types."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The types of the messages completed by `chunk`."""
        self._buffer += chunk
        kinds: list[bytes] = []
        while True:
            if self._started:
                if len(self._buffer) < 5:
                    return kinds
                length = 1 + struct.unpack("!i", self._buffer[1:5])[0]
                if len(self._buffer) < length:
                    return kinds
                kinds.append(self._buffer[:1])
            else:
                if len(self._buffer) < 8:
                    return kinds
                length, code = struct.unpack("!ii", self._buffer[:8])
                if len(self._buffer) < length:
                    return kinds
                self._started = code == PROTOCOL_3
            self._buffer = self._buffer[length:]


class StatementCounter:
    """Listens on a free local port and forwards every connection to the database, counting what clients run."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.url = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{self.port}"))
        self.url += ("&" if parts.query else "?") + "sslmode=disable"
        self._lock = threading.Lock()
        self._kinds: Counter[bytes] = Counter()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="pg-counter", daemon=True).start()

    @property
    def statements(self) -> int:
        """Statements run through the proxy so far."""
        with self._lock:
            return self._kinds[b"Q"] + self._kinds[b"E"]

    @property
    def executes(self) -> int:
        """Statements run with the extended protocol (asyncpg's queries with parameters), leaving out simple queries
        such as asyncpg's connection reset."""
        with self._lock:
            return self._kinds[b"E"]

    def close(self) -> None:
        """Stop listening and cut every connection."""
        self._server.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            self._sockets += [client, upstream]
            threading.Thread(target=self._frontend, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _frontend(self, client: socket.socket, upstream: socket.socket) -> None:
        messages = Messages()
        try:
            while chunk := client.recv(65536):
                kinds = messages.feed(chunk)
                with self._lock:
                    self._kinds.update(kinds)
                upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
