"""A loopback HTTP/1.1 server for unit tests: one request per connection, answered by a hook."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


def read_request(conn: socket.socket) -> bytes:
    """Return one whole request (head and body, Content-Length or chunked) from a connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        while not rest.endswith(b"0\r\n\r\n"):
            rest += conn.recv(65536)
    else:
        length = 0
        for line in headers.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(rest) < length:
            rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest


class LoopbackServer:
    """Serve on 127.0.0.1: read each connection's request, keep it, let ``answer`` reply."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self.requests.append(read_request(conn))
                self.answer(conn)

    def close(self) -> None:
        # shutdown() wakes the accept() in the serving thread; close() alone does not.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(5)
