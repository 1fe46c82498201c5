"""Request bodies over the upload limit are refused while they arrive, not after; and no
response names the server software.

Django's ASGI handler reads a whole body before any middleware or view runs, and daphne
(Twisted) has already written it to a temporary file before it calls the application at
all. So the limit sits in daphne's request object: a declared Content-Length over
:func:`remover.web.limits.max_request_bytes` is answered at once, and a chunked body is cut
off as soon as it passes the limit. Either way nothing more is stored and the client gets
the API's JSON 413. :func:`install` is called by project/asgi.py, which daphne imports
before it starts listening.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from daphne import http_protocol

from remover.devapi.errors import ApiError, removebg_error
from remover.web import limits

REMOVEBG_PREFIX = b"/v1.0/"  # remove.bg's paths (remover/devapi/removebg.py)

# After the 413, the rest of the body is read and dropped for this long before the
# connection is cut: closing a socket with unread data makes the kernel reset it, and the
# client may then never see the answer.
LINGER_SECONDS = 5.0

_BaseRequest = http_protocol.WebRequest


class LimitedRequest(_BaseRequest):
    refused = False
    received = 0

    def gotLength(self, length):
        if length is not None and length > limits.max_request_bytes():
            self._refuse(limits.request_too_large(length))
        super().gotLength(0 if self.refused else length)  # nothing will be stored

    def handleContentChunk(self, data):
        if self.refused:
            return
        self.received += len(data)
        if self.received > limits.max_request_bytes():
            self._refuse(limits.request_too_large(None))
            return
        super().handleContentChunk(data)

    def handle_reply(self, message):
        super().handle_reply(message)
        if message.get("type") == "http.response.start":
            # No "Server: daphne": the banner only tells a visitor what to attack. The
            # headers are sent with the first body bytes, after this.
            self.responseHeaders.removeHeader(b"server")

    def process(self):
        if self.refused:  # the whole (dropped) body has arrived: done with this client
            self.channel.loseConnection()
            return
        return super().process()

    def _refuse(self, refusal: limits.Refused) -> None:
        self.refused = True
        status, answer = refusal.status, {"error": str(refusal)}
        # Each API answers in its own shape (remover/devapi/errors.py). The request line is
        # parsed by now; Twisted keeps its path on the channel.
        path = getattr(self.channel, "_path", b"")
        if path.startswith(b"/api/v1/"):
            answer = {"error": {"code": "file_too_large", "message": str(refusal)}}
        elif path.startswith(REMOVEBG_PREFIX):
            status, entry = removebg_error(ApiError("file_too_large", str(refusal)))
            answer = {"errors": [entry]}
        body = json.dumps(answer).encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        self.channel.transport.write(head + body)
        self.channel.callLater(LINGER_SECONDS, self._cut)  # the reactor daphne installed

    def _cut(self) -> None:
        if self.channel is not None and self.channel.transport is not None:
            self.channel.transport.abortConnection()


def install() -> None:
    """Make daphne build :class:`LimitedRequest` objects (its factory looks the class up by name)."""
    http_protocol.WebRequest = LimitedRequest
