from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.utils.text import capfirst

from .actors import Actor
from .admin_labels import LabelledFieldsMixin, LabelledTabularInline
from .changes import change_record
from .models import ApiToken, AuditEntry, Membership, Tenant
from .services import api_token_create, api_token_revoke


def tenant_of(obj) -> Tenant | None:
    """The team an object belongs to, for the audit log; None for what belongs to no team (clusters, users)."""
    if isinstance(obj, Tenant):
        return obj
    tenant = getattr(obj, "tenant", None)
    return tenant if isinstance(tenant, Tenant) else None


def changed_fields(message) -> list[str]:
    """The names of the fields an admin change message lists (never their values)."""
    if not isinstance(message, list):
        return []
    return [name for part in message for name in part.get("changed", {}).get("fields", [])]


class AuditedAdminMixin(LabelledFieldsMixin):
    """Every add, change and deletion made in the admin also goes to the audit log, with the admin's address.

    Django's admin history (LogEntry) stays as it is; the audit log adds the tenant and the address,
    and is what owners and auditors read. Only field names are recorded, never values. (Every portal
    admin page also names its date and time boxes: portal.admin_labels.)
    """

    def audit_action(self, obj, verb: str, message) -> str:
        return f"admin.{verb}"

    def audit_change(self, request, obj, verb: str, message=None) -> None:
        """The admin's own edits have no service of their own: the mixin records them (a service that the admin
        calls, such as api_token_create, records itself; its admin skips that verb)."""
        details = {"model": obj._meta.label_lower}
        if changed_fields(message):
            details["fields"] = changed_fields(message)
        change_record(
            actor=Actor.of(request),
            action=self.audit_action(obj, verb, message),
            obj=obj,
            tenant=tenant_of(obj),
            details=details,
        )

    def log_addition(self, request, obj, message):
        self.audit_change(request, obj, "add", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self.audit_change(request, obj, "change", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:  # called before the deletion, so each object still has its id
            self.audit_change(request, obj, "delete")
        return super().log_deletions(request, queryset)


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "allow_published_ports", "created"]
    list_filter = ["allow_published_ports"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def audit_action(self, obj, verb: str, message) -> str:
        policy = capfirst(Tenant._meta.get_field("allow_published_ports").verbose_name)
        if verb == "change" and policy in changed_fields(message):
            return "tenant.policy_change"
        return super().audit_action(obj, verb, message)


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Admins make tokens for users (the key is shown once, in a message) and revoke them."""

    list_display = ["name", "user", "prefix", "created", "last_used", "revoked"]
    list_filter = [("revoked", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def audit_change(self, request, obj, verb: str, message=None) -> None:
        if verb != "add":  # api_token_create recorded the token.create entry
            super().audit_change(request, obj, verb, message)

    def get_fields(self, request, obj=None):
        return ["user", "name"] if obj is None else ["user", "name", "prefix", "created", "last_used", "revoked"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "prefix", "created", "last_used", "revoked"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = api_token_create(actor=Actor.of(request), user=obj.user, name=obj.name)
        obj.pk, obj.prefix, obj.key_hash, obj.created = token.pk, token.prefix, token.key_hash, token.created
        obj._state.adding = False
        self.message_user(
            request,
            f"The key of token {token.name} for {token.user}: {key} — copy it now; it is not shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens (they stop working at once)")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(actor=Actor.of(request), token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Staff read every tenant's entries here; nobody adds, changes or deletes one."""

    list_display = ["created", "actor", "token_prefix", "tenant_name", "action", "object_repr", "address"]
    list_filter = ["action", "tenant", ("user", admin.RelatedOnlyFieldListFilter), "created"]
    search_fields = ["actor", "action", "object_repr", "object_id", "token_name", "token_prefix", "address"]
    date_hierarchy = "created"
    list_select_related = ["tenant"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The admin's own user and group pages are audited like the rest.
admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class AuditedUserAdmin(AuditedAdminMixin, UserAdmin):
    pass


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass
