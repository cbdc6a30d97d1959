"""Names for the admin's inputs that Django leaves without one, so that a screen reader (and axe) can tell
them apart: a tabular inline's cells (their label is the column's header, which names no input), the
delete box of each row, and the date and time boxes of a date-time field (labelled by a bare "Date:").
"""

from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.utils.text import capfirst


class LabelledSplitDateTime(AdminSplitDateTime):
    """Django's date and time boxes, each named after its field: "Last login: date", "Last login: time"."""

    def __init__(self, label: str = "", attrs=None):
        self.label = label
        super().__init__(attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for subwidget, part in zip(context["widget"]["subwidgets"], ("date", "time"), strict=True):
            subwidget["attrs"]["aria-label"] = f"{self.label}: {part}"
        return context


class LabelledFieldsMixin:
    """For a ModelAdmin or an inline: date-time fields get named date and time boxes."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if (
            isinstance(db_field, models.DateTimeField)
            and formfield
            and isinstance(formfield.widget, AdminSplitDateTime)
        ):
            formfield.widget = LabelledSplitDateTime(label=capfirst(db_field.verbose_name))
        return formfield


def innermost(widget):
    """The widget that renders the input: the one inside the admin's add/change links wrapper."""
    while hasattr(widget, "widget"):
        widget = widget.widget
    return widget


class LabelledInlineFormSet(BaseInlineFormSet):
    """Each input of a tabular inline row is named by its column and its row: "Max networks: Team 3"."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if form.instance.pk is not None:
            row = str(form.instance)
        else:
            row = "new row" if index is None else f"new row {index + 1}"
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            label = "Delete" if name == "DELETE" else capfirst(field.label or name)
            innermost(field.widget).attrs["aria-label"] = f"{label}: {row}"


class LabelledTabularInline(LabelledFieldsMixin, admin.TabularInline):
    formset = LabelledInlineFormSet
