"""The audit log's filterset, shared by its page and its API list."""

import django_filters
from django import forms

from .models import AuditEntry

DATE_FORMAT = "%Y-%m-%d"  # what a browser's date picker sends, whatever the language it shows dates in


def date_filter(*, lookup_expr: str, label: str, which: str) -> django_filters.DateFilter:
    """A day, picked in the browser's date picker or typed as YYYY-MM-DD."""
    return django_filters.DateFilter(
        field_name="created__date",
        lookup_expr=lookup_expr,
        label=label,
        help_text=f"Entries {which} this day, as YYYY-MM-DD, such as 2026-01-31.",
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(format=DATE_FORMAT, attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )


class AuditEntryFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(
        lookup_expr="startswith", label="Action", help_text="An action such as network.create, or its start: network."
    )
    user = django_filters.CharFilter(field_name="actor", label="User", help_text='A username, or "manage.py".')
    after = date_filter(lookup_expr="gte", label="From (date)", which="from")
    before = date_filter(lookup_expr="lte", label="Until (date)", which="up to")

    class Meta:
        model = AuditEntry
        fields = ["action", "user", "after", "before"]

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)  # the tenant is taken for the shared filter backend; the selector scopes
