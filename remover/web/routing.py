"""WebSocket routes, and the same-origin check every handshake passes first."""

from __future__ import annotations

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import path

from remover.web.consumers import JobConsumer

websocket_urlpatterns = [
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
]


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1").strip().lower()
    return ""


def _trusted(origin: str) -> bool:
    """CSRF_TRUSTED_ORIGINS, read as Django's CSRF check reads them (``https://*.example.com``
    covers subdomains; scheme and port must match)."""
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted = trusted.lower()
        if origin == trusted:
            return True
        scheme, _, pattern = trusted.partition("://*")
        if pattern and origin.startswith(scheme + "://") and origin.endswith(pattern):
            return True
    return False


def same_origin(scope) -> bool:
    """Whether a handshake comes from one of this site's own pages.

    The ``Origin`` must name the very address the browser connected to: scheme (``ws`` for
    ``http``, ``wss`` for ``https``), host and port, as Django's CSRF check compares a
    form's origin; or be listed in CSRF_TRUSTED_ORIGINS. Host names alone are not enough:
    another port or plain HTTP on the same host is another origin, possibly another
    program. Requests without an Origin are refused: every browser sends one.
    """
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host:
        return False
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return origin == f"{scheme}://{host}" or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware: WebSocket handshakes that fail :func:`same_origin` are refused (403)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
