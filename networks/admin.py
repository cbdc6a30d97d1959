from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from networks.selectors.clusters import cluster_credentials
from plumbing.errors import USER_ERRORS
from portal.actors import Actor
from portal.admin import AuditedAdminMixin

from .forms.clusters import ClusterCredentialsForm, ClusterRegisterForm
from .models import (
    AddressAllocation,
    Cluster,
    ClusterGrant,
    Container,
    Endpoint,
    Network,
    NetworkShare,
    Node,
    Operation,
    RegistryLogin,
    ReservedRange,
    SubnetAllocation,
)
from .services.clusters.registration import cluster_deregister
from .services.containers.specs import masked_environment
from .services.grants import grant_holdings
from .services.reconcile import cluster_reconcile_request
from .services.registries import registry_login_remove
from .services.runners import operation_give_up_request
from .views.clusters import (
    deregistered_sentence,
    register_submit,
    registered_sentence,
    rotate_submit,
    rotated_sentence,
    test_answer,
)


class GrantFormSet(BaseInlineFormSet):
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


class ClusterGrantInline(admin.TabularInline):
    model = ClusterGrant
    formset = GrantFormSet
    extra = 0
    fields = ["tenant", "max_networks", "max_containers", "max_published_ports", "created"]
    readonly_fields = ["created"]
    verbose_name_plural = "Teams using this cluster (grants and their limits; empty limit: none)"


class NodeInline(admin.TabularInline):
    model = Node
    extra = 0


class ReservedRangeInline(admin.TabularInline):
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
    list_display = ["name", "cluster", "address", "role", "state", "last_seen"]
    list_filter = ["role", "state", "cluster"]
    search_fields = ["name", "address", "cluster__name"]


@admin.register(ReservedRange)
class ReservedRangeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["cidr", "description", "is_servicenet", "cluster"]
    list_filter = ["is_servicenet", "cluster"]
    search_fields = ["cidr", "description"]


class EndpointInline(admin.TabularInline):
    model = Endpoint
    extra = 0
    fields = ["container", "ipv4_address", "mac_address", "aliases", "endpoint_id"]
    readonly_fields = fields
    can_delete = False


class NetworkShareInline(admin.TabularInline):
    model = NetworkShare
    extra = 0
    fields = ["tenant", "created_by", "created"]
    readonly_fields = ["created_by", "created"]
    verbose_name_plural = "Shared with (teams that may run and connect containers on it)"


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


@admin.register(Network)
class NetworkAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "tenant", "cluster", "subnet", "gateway", "status", "is_external", "docker_id", "created"]
    list_filter = ["status", "is_external", "internal", "encrypted", "cluster", "tenant"]
    search_fields = ["name", "subnet", "docker_id"]
    readonly_fields = ["docker_id", "status", "created_by", "created", "updated"]
    inlines = [NetworkShareInline, EndpointInline]


@admin.register(SubnetAllocation)
class SubnetAllocationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["cidr", "cluster", "kind", "owner", "network", "created"]
    list_filter = ["kind", "cluster"]
    search_fields = ["cidr", "owner"]
    readonly_fields = ["first", "last"]


@admin.register(AddressAllocation)
class AddressAllocationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["address", "network", "owner", "created"]
    list_filter = ["network__cluster"]
    search_fields = ["address", "owner", "network__name"]


@admin.register(Container)
class ContainerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "tenant", "cluster", "node", "image", "status", "is_system", "exposed"]
    list_filter = ["status", "is_system", "cluster", "tenant"]
    search_fields = ["name", "image", "docker_id"]
    # The environment is shown masked and never edited here: secret values must not come back.
    exclude = ["environment"]
    readonly_fields = ["environment_masked", "docker_id", "published_ports", "status", "created", "updated"]

    @admin.display(boolean=True, description="Exposed")
    def exposed(self, obj):
        return obj.is_exposed

    @admin.display(description="Environment")
    def environment_masked(self, obj):
        return format_html_join(
            "", "<div><code>{}={}</code></div>", ((e["name"], e["value"]) for e in masked_environment(obj))
        )


@admin.register(Operation)
class OperationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "target", "tenant", "cluster", "status", "requested_by", "created", "finished"]
    list_filter = ["status", "kind", "cluster", "tenant"]
    search_fields = ["target", "error", "celery_task_id"]
    readonly_fields = [f.name for f in Operation._meta.fields]
    actions = ["give_up"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Give up on stuck operations: clean up what they started, mark them failed")
    def give_up(self, request, queryset):
        stuck = list(queryset.unfinished())
        for operation in stuck:
            operation_give_up_request(actor=Actor.of(request), operation=operation)
        self.message_user(
            request,
            f"A worker gives up on {len(stuck)} operation(s), cleaning up what they started; finished ones are "
            "left as they were. Their networks and containers can then be removed or tried again by their teams.",
            messages.SUCCESS,
        )


@admin.register(RegistryLogin)
class RegistryLoginAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Teams' registry logins, to see and to delete: owners add and replace them on their page (or the
    API), where the password is sealed; it is never shown here, not even sealed."""

    list_display = ["registry", "username", "tenant", "updated"]
    list_filter = ["tenant"]
    search_fields = ["registry", "username", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    fields = ["tenant", "registry", "username", "created", "updated"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("password_sealed")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def audit_change(self, request, obj, verb: str, message=None) -> None:
        if verb != "delete":  # registry_login_remove records the registry_login.remove entry
            super().audit_change(request, obj, verb, message)

    def delete_model(self, request, obj):
        registry_login_remove(actor=Actor.of(request), login=obj)

    def delete_queryset(self, request, queryset):
        for login in queryset:
            registry_login_remove(actor=Actor.of(request), login=login)
