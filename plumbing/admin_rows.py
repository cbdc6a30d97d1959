"""Rows of the admin's tabular inlines that a screen reader can name.

Django's tabular inline names its columns only in the table's header: a row's select and its Delete
checkbox carry no label of their own (axe: critical `label` and `select-name`). Each input of a row
gets an `aria-label` saying the column and the row, e.g. "Role: alice in Team 1 (Owner)" or
"Delete: new row 2".
"""

from __future__ import annotations

from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet


class LabelledRowsMixin:
    """For an inline formset: every visible input of every row, the blank one included, is named."""

    def add_fields(self, form, index):
        super().add_fields(form, index)  # type: ignore[misc]
        if form.instance.pk is not None:
            row = str(form.instance)
        else:
            row = "new row" if index is None else f"new row {index + 1}"
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            column = "Delete" if name == DELETION_FIELD_NAME else str(field.label or name)
            field.widget.attrs.setdefault("aria-label", f"{column}: {row}")


class LabelledInlineFormSet(LabelledRowsMixin, BaseInlineFormSet):
    """The formset of a tabular inline whose rows are named (`formset = LabelledInlineFormSet`)."""
