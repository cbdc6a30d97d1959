"""One filterset per model, shared by the UI lists and the API lists, each with the columns its list
sorts by (`sorting`: the page's column headers and the API's `?ordering=` alike)."""

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from drf_spectacular.utils import extend_schema_field

from networks.models import Cluster, Container, Network, Operation
from networks.selectors.networks import network_container_count, network_unused_filter
from plumbing.inputs import MAX_ID
from plumbing.sorting import Sorting, natural

ORDERING = "ordering"


class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number a database id can be (NumberFilter takes 1.5 and 2**64)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


MAX_IDS = 100  # ids asked for at once: as many as a batch makes (POST /api/v1/networks/batch/)


class IdsField(forms.CharField):
    """Ids as one comma-separated value ("101,102,103"): whole numbers a database id can be, at most MAX_IDS."""

    def clean(self, value):
        text = super().clean(value)
        ids = []
        for part in (text or "").split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit() and 1 <= int(part) <= MAX_ID):
                raise forms.ValidationError(
                    f"{part[:20]!r} is not an id: send whole numbers separated by commas, such as 101,102.",
                    code="invalid",
                )
            ids.append(int(part))
        if len(ids) > MAX_IDS:
            raise forms.ValidationError(
                f"At most {MAX_IDS} ids at once, and this asks for {len(ids)}: ask in parts.", code="too_many"
            )
        return ids


@extend_schema_field({"type": "string", "description": "Ids, comma-separated: 101,102,103 (at most 100)."})
class IdsFilter(django_filters.Filter):
    """Objects by their ids (`?id=101,102,103`): a script follows a batch's operations in one request."""

    field_class = IdsField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)


class DaysFilter(django_filters.NumberFilter):
    """A whole number of days."""

    field_class = forms.IntegerField


def _invalid_choice(name: str, each: django_filters.Filter) -> str | None:
    """What a value that is not one of a filter's choices is told: the choices there are, or how to pick a
    team's object (Django's own sentence names neither)."""
    if isinstance(each, django_filters.MultipleChoiceFilter):
        values = ", ".join(str(value) for value, _ in each.extra["choices"])
        return f'"%(value)s" is not a {name}: use one of {values}.'
    if isinstance(each, django_filters.ModelChoiceFilter):
        return f'Your team has no {name} with the id "%(value)s": use the id of one of its own, or leave {name} out.'
    return None


class SortedFilterSet(django_filters.FilterSet):
    """A filterset whose results come sorted by `?ordering=` (unknown terms left out; the API's
    ordering backend refuses them with a sentence), else by its `sorting`'s default."""

    sorting: Sorting

    @classmethod
    def get_filters(cls):
        """The class's filters (django-filter's metaclass asks once, for `base_filters`), each choice's refusal
        with its sentence before any form field is built from them (every request's and the API schema's)."""
        filters = super().get_filters()
        for name, each in filters.items():
            refusal = _invalid_choice(name, each)
            if refusal:
                each.extra["error_messages"] = {**each.extra.get("error_messages", {}), "invalid_choice": refusal}
        return filters

    def filter_queryset(self, queryset):
        return self.sorting.apply(super().filter_queryset(queryset), self.data.get(ORDERING))

    def sort_columns(self) -> dict:
        """For each column that sorts: its aria-sort, and the ordering its header link asks for."""
        return self.sorting.state(self.data.get(ORDERING))


class NetworkFilterSet(SortedFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    name = django_filters.CharFilter(lookup_expr="icontains")
    cluster = django_filters.ModelChoiceFilter(queryset=Cluster.objects.none())
    status = django_filters.MultipleChoiceFilter(choices=Network.Status.choices)
    shared = django_filters.BooleanFilter(
        method="filter_shared", label="Shared with your team", help_text="true: other teams' networks shared with yours"
    )
    tag = django_filters.CharFilter(
        method="filter_tags", label="Tag", help_text="Networks with this tag (repeat for networks with every one)."
    )
    label = django_filters.CharFilter(
        method="filter_labels",
        label="Docker label",
        help_text="KEY=VALUE, or KEY for any value: networks made with that Docker label (repeat for every one).",
    )

    unused_days = DaysFilter(
        method="filter_unused",
        label="Unused for days",
        min_value=0,
        max_value=3650,
        help_text="Networks with no container for at least this many days.",
    )

    class Meta:
        model = Network
        fields = ["q", "name", "cluster", "status", "shared", "tag", "label", "unused_days"]

    # Networks of one name on two clusters: the cluster's name next.
    sorting = Sorting(
        keys={
            "name": (natural("name"), "cluster__name"),
            "subnet": (natural("subnet"),),
            "status": ("status",),
            "containers": (network_container_count(),),
            "created": ("created",),
            "updated": ("updated",),
        },
        default=("name",),
    )

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        if tenant is not None:
            self.filters["cluster"].queryset = Cluster.objects.filter(grants__tenant=tenant)

    def filter_shared(self, queryset, name, value):
        if self.tenant is None:
            return queryset
        return queryset.exclude(tenant=self.tenant) if value else queryset.filter(tenant=self.tenant)

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(subnet__startswith=value) | Q(docker_id__startswith=value))

    def filter_unused(self, queryset, name, value):
        return network_unused_filter(queryset, days=int(value))

    def filter_tags(self, queryset, name, value):
        for tag in self.data.getlist("tag") if hasattr(self.data, "getlist") else [value]:
            if tag.strip():
                queryset = queryset.filter(tags__name=tag.strip().lower())
        return queryset

    def filter_labels(self, queryset, name, value):
        wanted = self.data.getlist("label") if hasattr(self.data, "getlist") else [value]
        for number, label in enumerate(item for item in wanted if item):
            key, sep, label_value = label.partition("=")
            if not sep:
                queryset = queryset.filter(labels__has_key=key)
                continue
            alias = f"label_{number}"
            queryset = queryset.alias(**{alias: KeyTransform(key, "labels")}).filter(**{alias: label_value})
        return queryset


class ContainerFilterSet(SortedFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    name = django_filters.CharFilter(lookup_expr="icontains")
    cluster = django_filters.ModelChoiceFilter(queryset=Cluster.objects.none())
    status = django_filters.MultipleChoiceFilter(choices=Container.Status.choices)
    is_system = django_filters.BooleanFilter()
    exposed = django_filters.BooleanFilter(method="filter_exposed", label="Exposed")
    network = IdFilter(field_name="endpoints__network")

    class Meta:
        model = Container
        fields = ["q", "name", "cluster", "status", "is_system", "exposed", "network"]

    sorting = Sorting(
        keys={
            "name": (natural("name"), "cluster__name"),
            "status": ("status",),
            "image": ("image",),
            "node": (natural("node__name"),),
            "created": ("created",),
            "updated": ("updated",),
        },
        default=("name",),
    )

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tenant is not None:
            self.filters["cluster"].queryset = Cluster.objects.filter(grants__tenant=tenant)

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(image__icontains=value))

    def filter_exposed(self, queryset, name, value):
        return queryset.exposed(value)


class OperationFilterSet(SortedFilterSet):
    cluster = django_filters.ModelChoiceFilter(queryset=Cluster.objects.none())
    status = django_filters.MultipleChoiceFilter(choices=Operation.Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Operation.Kind.choices)
    network = IdFilter(field_name="network")
    container = IdFilter(field_name="container")
    id = IdsFilter(field_name="pk", label="Operations by id, comma-separated (a batch's: 101,102,103), at most 100.")

    class Meta:
        model = Operation
        fields = ["cluster", "status", "kind", "network", "container", "id"]

    sorting = Sorting(
        keys={"created": ("created",), "finished": ("finished",), "status": ("status",), "kind": ("kind",)},
        default=("-created",),
        tiebreak=("-pk",),
    )

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if tenant is not None:
            self.filters["cluster"].queryset = Cluster.objects.filter(grants__tenant=tenant)
