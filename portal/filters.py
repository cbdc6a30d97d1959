"""The audit log's filterset, shared by its page and its API list."""

import django_filters

from .models import AuditEntry


class AuditEntryFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(
        lookup_expr="startswith", label="Action", help_text="An action such as network.create, or its start: network."
    )
    user = django_filters.CharFilter(field_name="actor", label="User", help_text='A username, or "manage.py".')
    after = django_filters.DateFilter(field_name="created__date", lookup_expr="gte", label="From (date)")
    before = django_filters.DateFilter(field_name="created__date", lookup_expr="lte", label="Until (date)")

    class Meta:
        model = AuditEntry
        fields = ["action", "user", "after", "before"]

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)  # the tenant is taken for the shared filter backend; the selector scopes
