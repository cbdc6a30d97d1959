from django.apps import AppConfig


class PlumbingConfig(AppConfig):
    name = "plumbing"
    verbose_name = "Shared plumbing"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers `__any_of` on every field)
