from django.apps import AppConfig


class RemoverConfig(AppConfig):
    name = "remover"
    verbose_name = "Clearcut background remover"

    def ready(self):
        from remover.engine.heap import keep_freed_memory
        from remover.web import loginthrottle  # noqa: F401  (connects the sign-in signal receivers)

        # Every Clearcut process cuts out or renders photos: the server with its in-process
        # worker, Celery workers, the command line.
        keep_freed_memory()
