"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs apps loaded)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from remover.processing.worker import StartWorker  # noqa: E402
from remover.web import bodylimit  # noqa: E402
from remover.web.routing import SameOriginValidator, websocket_urlpatterns  # noqa: E402

bodylimit.install()  # under daphne, bodies over the upload limit are refused as they arrive

# StartWorker: the first connection starts the in-process worker (and with it the
# re-queueing of jobs a restart interrupted) on this server's event loop.
application = StartWorker(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
