from django.apps import AppConfig


class RemoverConfig(AppConfig):
    name = "remover"
    verbose_name = "Clearcut background remover"
