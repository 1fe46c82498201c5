from django.apps import AppConfig


class RemoverConfig(AppConfig):
    name = "remover"
    verbose_name = "Clearcut background remover"

    def ready(self):
        from remover.web import loginthrottle  # noqa: F401  (connects the sign-in signal receivers)
