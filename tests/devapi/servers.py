"""Small HTTP servers the tests run on 127.0.0.1 (port 0: the kernel picks a free one), for
image_url downloads and webhook deliveries. Nothing is ever sent anywhere else."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    port: int
    requests: list[Seen] = field(default_factory=list)
    sent_bytes: list[int] = field(default_factory=list)  # per answered request, what was written

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


# A handler gets the request and the server, and answers through the request handler.
Answer = Callable[[BaseHTTPRequestHandler, LocalServer], None]


@contextmanager
def serving(answer: Answer):
    state = LocalServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer(self, state)

        do_GET = do_POST = _handle

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
          length: bool = True) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if length:
        handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)


def stream(handler: BaseHTTPRequestHandler, state: LocalServer, total: int, declare: bool) -> None:
    """Send ``total`` bytes in 64 KiB pieces, with or without Content-Length, and record how
    many went out before the client hung up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    if declare:
        handler.send_header("Content-Length", str(total))
    handler.send_header("Connection", "close")
    handler.end_headers()
    sent = 0
    try:
        while sent < total:
            handler.wfile.write(b"\0" * 65536)
            sent += 65536
    except OSError:
        pass
    state.sent_bytes.append(sent)
