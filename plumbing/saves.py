"""A save of some fields (`update_fields`) with its UPDATE written once: `PreparedSave(model, names)`.
The reads and UPDATEs compiled once are plumbing/prepared.py's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.models import Model, signals

from plumbing.server_prepared import sent_as

if TYPE_CHECKING:
    from plumbing.writes import Writes


class PreparedSave:
    """`instance.save(update_fields=names)` for instances of one model, its UPDATE written once.

    Django's save builds and compiles an UpdateQuery on every call (0.3-0.5 ms of CPU for a few fields),
    though it always comes out as `UPDATE table SET a = %s, b = %s WHERE id = %s`. This writes that SQL once
    per database and sends each instance's values the way the save does: each field's `pre_save` (auto_now
    stamps it) then `get_db_prep_save`; the pk last. It raises as the save does when no row was updated. A
    model that overrides `save`, has save signals' receivers, or a field with its own SQL placeholder, and a
    value that is an expression, take Django's own save instead (tests/plumbing/test_prepared.py compares).
    """

    def __init__(self, model, names: list[str]):
        self.model, self.names = model, tuple(names)
        self.fields = [model._meta.get_field(name) for name in self.names]
        if any(field.primary_key or not field.concrete or hasattr(field, "get_placeholder") for field in self.fields):
            raise ImproperlyConfigured(f"PreparedSave: {self.names} are not all plain columns of {model.__name__}.")
        self.sql: dict[str, str] = {}

    def written(self, alias: str) -> str:
        if alias not in self.sql:
            quote = connections[alias].ops.quote_name
            columns = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
            pk = self.model._meta.pk
            self.sql[alias] = f"UPDATE {quote(self.model._meta.db_table)} SET {columns} WHERE {quote(pk.column)} = %s"
        return self.sql[alias]

    def statement(self, instance, using: str = "default") -> tuple[str, list] | None:
        """The UPDATE and its values, to be sent with other statements (plumbing/writes.py: nobody then learns
        whether it found the row, so the caller holds the row's lock); None where Django's own save must do it."""
        model = type(instance)
        if (
            model is not self.model
            or model.save is not Model.save
            or signals.pre_save.has_listeners(model)
            or signals.post_save.has_listeners(model)
        ):
            return None
        connection = connections[using]
        values = []
        for field in self.fields:
            value = field.pre_save(instance, False)
            if hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save"):
                return None
            values.append(field.get_db_prep_save(value, connection=connection))
        values.append(self.model._meta.pk.get_db_prep_value(instance.pk, connection))
        instance._state.db, instance._state.adding = using, False
        return sent_as(connection, self.written(using), values), values  # prepared once per connection

    def __call__(self, instance, using: str = "default", *, writes: Writes | None = None) -> None:
        """The save; `writes` (plumbing/writes.py `Writes`): its UPDATE among them, sent with them (not checked
        to have found the row: the caller holds its lock), where Django's own save need not do it now."""
        using = writes.using if writes is not None else using
        statement = self.statement(instance, using)
        if statement is None:
            instance.save(using=using, update_fields=self.names)
            return
        if writes is not None:
            writes.add(*statement)
            return
        with transaction.mark_for_rollback_on_error(using), connections[using].cursor() as cursor:
            cursor.execute(*statement)
            if cursor.rowcount == 0:
                raise DatabaseError("Save with update_fields did not affect any rows.")
