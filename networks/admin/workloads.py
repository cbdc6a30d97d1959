"""The admin of what teams make on the swarms: networks and their shares, subnet and address
allocations, containers (secret values masked), operations (give up) and registry logins."""

from django.contrib import admin, messages
from django.utils.html import format_html_join

from portal.actors import Actor
from portal.admin import AuditedAdminMixin
from portal.admin_labels import LabelledTabularInline

from ..models import (
    AddressAllocation,
    Container,
    Endpoint,
    Network,
    NetworkShare,
    Operation,
    RegistryLogin,
    SubnetAllocation,
)
from ..services.containers.specs import masked_environment
from ..services.registries import registry_login_remove
from ..services.runners import operation_give_up_request


class EndpointInline(LabelledTabularInline):
    model = Endpoint
    extra = 0
    fields = ["container", "ipv4_address", "mac_address", "aliases", "endpoint_id"]
    readonly_fields = fields
    can_delete = False


class NetworkShareInline(LabelledTabularInline):
    model = NetworkShare
    extra = 0
    fields = ["tenant", "created_by", "created"]
    readonly_fields = ["created_by", "created"]
    verbose_name_plural = "Shared with (teams that may run and connect containers on it)"


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
