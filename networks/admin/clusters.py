"""The admin of the swarms: clusters (register, test, rotate, deregister, reconcile) with their nodes,
reserved ranges and the teams' grants."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from networks.selectors.clusters import cluster_credentials
from plumbing.errors import USER_ERRORS
from portal.actors import Actor
from portal.admin import AuditedAdminMixin
from portal.admin_labels import LabelledInlineFormSet, LabelledTabularInline

from ..forms.clusters import ClusterCredentialsForm, ClusterRegisterForm
from ..models import (
    Cluster,
    ClusterGrant,
    Node,
    ReservedRange,
)
from ..services.clusters.registration import cluster_deregister
from ..services.grants import grant_holdings
from ..services.reconcile import cluster_reconcile_request
from ..views.clusters import (
    deregistered_sentence,
    register_submit,
    registered_sentence,
    rotate_submit,
    rotated_sentence,
    test_answer,
)


class GrantFormSet(LabelledInlineFormSet):
    """Revoking a grant (deleting its row) is refused while the tenant still has things on the cluster."""

    def clean(self):
        super().clean()
        refusals = []
        for form in self.deleted_forms:
            grant = form.instance
            if grant.pk is None:
                continue
            held = grant_holdings(cluster=grant.cluster, tenant=grant.tenant)
            if held:
                refusals.append(
                    f"{grant.tenant.name} still has {' and '.join(held)} on {grant.cluster.name}: "
                    "remove them first, then revoke the grant."
                )
        if refusals:
            raise ValidationError(refusals)


class ClusterGrantInline(LabelledTabularInline):
    model = ClusterGrant
    formset = GrantFormSet
    extra = 0
    fields = ["tenant", "max_networks", "max_containers", "max_published_ports", "created"]
    readonly_fields = ["created"]
    verbose_name_plural = "Teams using this cluster (grants and their limits; empty limit: none)"


def ports_text(node: Node) -> str:
    """The ports the node's own programs listen on, as "22/tcp, 53/udp" rather than raw JSON."""
    return ", ".join(f"{port}/{protocol}" for port, protocol in node.listening_ports) or "—"


class NodeInline(LabelledTabularInline):
    """Nodes are what the swarm reports (registering and rotating record them, health checks their state,
    last sighting and listening ports): shown, never edited, added or deleted here."""

    model = Node
    extra = 0
    fields = ["name", "role", "address", "docker_endpoint", "state", "last_seen", "listening", "consul_container"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "Nodes (as the swarm reports them; a health check or reconcile updates them)"

    @admin.display(description="Listening ports")
    def listening(self, obj):
        return ports_text(obj)

    def has_add_permission(self, request, obj=None):
        return False


class ReservedRangeInline(LabelledTabularInline):
    model = ReservedRange
    extra = 0


@admin.register(Cluster)
class ClusterAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Clusters are registered from their credentials bundle (a worker connects first), tested, given new
    credentials and deregistered through the services; the key and any Consul token are never shown."""

    list_display = ["name", "swarm_id", "docker_endpoint", "credentials_expire", "address_pool", "default_prefixlen"]
    list_filter = ["grants__tenant"]
    search_fields = ["name", "swarm_id", "grants__tenant__name", "docker_endpoint"]
    readonly_fields = ["uid", "swarm_id", "docker_endpoint", "consul_address", "allocation_floor"]
    readonly_fields += ["certificate_subject", "certificate_fingerprint", "credentials_expire", "credentials_updated"]
    readonly_fields += ["consul_token_kept"]
    fieldsets = [
        (None, {"fields": ["name", "swarm_id", "uid", "registry", "address_pool", "default_prefixlen"]}),
        (
            "Credentials (the key and any Consul token are sealed and never shown)",
            {
                "fields": [
                    "docker_endpoint",
                    "certificate_subject",
                    "certificate_fingerprint",
                    "credentials_expire",
                    "credentials_updated",
                    "consul_token_kept",
                    "consul_address",
                ]
            },
        ),
        ("Allocator", {"fields": ["allocation_floor"], "classes": ["collapse"]}),
    ]
    inlines = [ClusterGrantInline, NodeInline, ReservedRangeInline]
    actions = ["reconcile"]
    change_form_template = "admin/networks/cluster/change_form.html"

    @admin.action(description="Reconcile with Docker and Consul (runs on a worker)")
    def reconcile(self, request, queryset):
        for cluster in queryset:
            cluster_reconcile_request(cluster=cluster, user=request.user)
        self.message_user(
            request, f"Reconcile queued for {queryset.count()} cluster(s); see Operations.", messages.SUCCESS
        )

    @admin.display(description="Certificate subject")
    def certificate_subject(self, obj):
        return cluster_credentials(obj).subject or "—"

    @admin.display(description="SHA-256 fingerprint")
    def certificate_fingerprint(self, obj):
        return cluster_credentials(obj).fingerprint or "—"

    @admin.display(description="Consul ACL token")
    def consul_token_kept(self, obj):
        return "kept, sealed" if cluster_credentials(obj).consul_token else "none"

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time: deregistering is refused while a cluster is used
        return actions

    def get_urls(self):
        own = [
            path("<path:object_id>/test/", self.admin_site.admin_view(self.test_view), name="networks_cluster_test"),
            path(
                "<path:object_id>/rotate/",
                self.admin_site.admin_view(self.rotate_view),
                name="networks_cluster_rotate",
            ),
        ]
        return own + super().get_urls()

    def _cluster(self, request, object_id, permission) -> Cluster:
        cluster = self.get_object(request, unquote(object_id))
        if cluster is None:
            raise Http404("No such cluster.")
        if not permission(request, cluster):
            raise PermissionDenied
        return cluster

    def _change_page(self, cluster):
        return redirect(reverse("admin:networks_cluster_change", args=[cluster.pk]))

    def _form_page(self, request, form, *, title: str, button: str, cluster=None, status: int = 200):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "button": button,
            "form": form,
            "original": cluster,
        }
        return TemplateResponse(request, "admin/networks/cluster/credentials_form.html", context, status=status)

    def add_view(self, request, form_url="", extra_context=None):
        """Registering: the bundle (or the endpoint and PEMs), the first team, a name; a worker connects first."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ClusterRegisterForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            cluster, status = register_submit(request, form)
            if cluster is not None:
                self.message_user(request, registered_sentence(cluster), messages.SUCCESS)
                return self._change_page(cluster)
        return self._form_page(request, form, title="Register a cluster", button="Connect and register", status=status)

    def rotate_view(self, request, object_id):
        cluster = self._cluster(request, object_id, self.has_change_permission)
        form = ClusterCredentialsForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            rotated, status = rotate_submit(request, cluster, form)
            if rotated is not None:
                self.message_user(request, rotated_sentence(cluster), messages.SUCCESS)
                return self._change_page(cluster)
        return self._form_page(
            request,
            form,
            title=f"Rotate the credentials of {cluster.name}",
            button="Connect and rotate",
            cluster=cluster,
            status=status,
        )

    @method_decorator(require_POST)
    def test_view(self, request, object_id):
        cluster = self._cluster(request, object_id, self.has_view_permission)
        answer = test_answer(cluster)
        self.message_user(request, answer["message"], messages.SUCCESS if answer["ok"] else messages.ERROR)
        return self._change_page(cluster)

    def delete_view(self, request, object_id, extra_context=None):
        """Deleting is deregistering: refused, with the names, while teams still have networks or containers."""
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        cluster = self._cluster(request, object_id, self.has_delete_permission)
        try:
            cluster_deregister(actor=Actor.of(request), cluster=cluster)
        except USER_ERRORS as error:
            self.message_user(request, error.message, messages.ERROR)
            return self._change_page(cluster)
        self.message_user(request, deregistered_sentence(cluster), messages.SUCCESS)
        return redirect(reverse("admin:networks_cluster_changelist"))


@admin.register(Node)
class NodeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """What health checks record (state, last sighting, listening ports, the Consul agent) is read-only."""

    list_display = ["name", "cluster", "address", "role", "state", "last_seen"]
    list_filter = ["role", "state", "cluster"]
    search_fields = ["name", "address", "cluster__name"]
    fields = ["cluster", "name", "role", "address", "docker_endpoint", "state", "last_seen", "listening"]
    fields += ["consul_container"]
    readonly_fields = ["state", "last_seen", "listening", "consul_container"]

    @admin.display(description="Listening ports")
    def listening(self, obj):
        return ports_text(obj)


@admin.register(ReservedRange)
class ReservedRangeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["cidr", "description", "is_servicenet", "cluster"]
    list_filter = ["is_servicenet", "cluster"]
    search_fields = ["cidr", "description"]


@admin.register(ClusterGrant)
class ClusterGrantAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["cluster", "tenant", "max_networks", "max_containers", "max_published_ports", "created"]
    list_filter = ["cluster", "tenant"]
    search_fields = ["cluster__name", "tenant__name", "tenant__slug"]
    readonly_fields = ["holdings"]

    @admin.display(description="Revoking")
    def holdings(self, obj):
        held = grant_holdings(cluster=obj.cluster, tenant=obj.tenant) if obj.pk else []
        if not held:
            return "Possible: the team has nothing on the cluster."
        return f"Refused while {obj.tenant.name} still has {' and '.join(held)} on {obj.cluster.name}."

    def has_delete_permission(self, request, obj=None):
        # Grants are revoked one at a time, and only once the team has nothing left on the cluster.
        if obj is None or grant_holdings(cluster=obj.cluster, tenant=obj.tenant):
            return False
        return super().has_delete_permission(request, obj)
