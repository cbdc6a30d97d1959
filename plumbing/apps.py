from django.apps import AppConfig

from . import (
    lookups,  # noqa: F401  (registers `__any_of` on every field)
    sorting,  # noqa: F401  (registers the natural collation on SQLite connections)
)


class PlumbingConfig(AppConfig):
    name = "plumbing"
    verbose_name = "Shared plumbing"
