from django.apps import AppConfig

from . import lookups  # noqa: F401  (registers `__any_of` on every field)


class PlumbingConfig(AppConfig):
    name = "plumbing"
    verbose_name = "Shared plumbing"
