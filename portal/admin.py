from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from plumbing.errors import ServiceError

from .accounts import user_deactivate
from .actors import Actor
from .admin_labels import LabelledFieldsMixin, LabelledTabularInline
from .changes import change_record
from .models import ApiToken, AuditEntry, Membership, SsoGroupMapping, SsoIdentity, Tenant
from .services import api_token_create, api_token_revoke
from .tokens import api_token_expiry


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
    list_display = ["user", "tenant", "role", "source", "created"]
    list_filter = ["role", "source", "tenant"]
    search_fields = ["user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


class ApiTokenAddForm(forms.ModelForm):
    """A new token: the model's constraint says who may own it; the service's rule, how long it may work."""

    class Meta:
        model = ApiToken
        fields = ["user", "tenant", "role", "name", "expires", "read_only"]
        help_texts = {"expires": "Empty: API_TOKEN_DEFAULT_DAYS (90) from now; at most API_TOKEN_MAX_DAYS ahead."}

    def clean_expires(self):
        expires = self.cleaned_data.get("expires")
        if expires is not None:
            try:
                api_token_expiry(expires)
            except ServiceError as error:
                raise forms.ValidationError(error.message, code=error.code) from None
        return expires


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Admins make tokens for users or teams (the key is shown once, in a message) and revoke them; what a
    token is and does (whose, scope, expiry, use) is fixed when it is made."""

    list_display = ["name", "user", "tenant", "role", "read_only", "prefix", "expires", "last_used", "revoked"]
    list_filter = [
        ("revoked", admin.EmptyFieldListFilter),
        "read_only",
        "role",
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "prefix", "user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]
    list_select_related = ["user", "tenant"]
    actions = ["revoke"]
    ADD_FIELDS = ["user", "tenant", "role", "name", "expires", "read_only"]
    RUNTIME_FIELDS = [
        "user",
        "tenant",
        "role",
        "read_only",
        "prefix",
        "created",
        "created_by",
        "expires",
        "last_used",
        "last_used_address",
        "revoked",
    ]

    def audit_change(self, request, obj, verb: str, message=None) -> None:
        if verb != "add":  # api_token_create recorded the token.create entry
            super().audit_change(request, obj, verb, message)

    def get_fields(self, request, obj=None):
        return self.ADD_FIELDS if obj is None else ["name", *self.RUNTIME_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.RUNTIME_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = api_token_create(
            actor=Actor.of(request),
            user=obj.user,
            team=obj.tenant,
            role=obj.role,
            name=obj.name,
            expires=obj.expires,
            read_only=obj.read_only,
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created = token.pk, token.prefix, token.key_hash, token.created
        obj.expires, obj.created_by = token.expires, token.created_by
        obj._state.adding = False
        self.message_user(
            request,
            f"The key of token {token.name} for {token.user or token.tenant}: {key} — copy it now; it is not shown again.",
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
    """Staff deactivate a person who left in one click: the button on their page, or the list's action."""

    change_form_template = "admin/auth/user/deactivate_change_form.html"
    actions = ["deactivate"]

    def get_urls(self):
        deactivate = self.admin_site.admin_view(require_POST(self.deactivate_view))
        return [path("<int:pk>/deactivate/", deactivate, name="auth_user_deactivate"), *super().get_urls()]

    def deactivate_one(self, request, user) -> None:
        try:
            done = user_deactivate(actor=Actor.of(request), user=user)
        except ServiceError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            f"{user.username} is deactivated: {done['sessions']} session(s) ended, {done['tokens']} token(s) revoked.",
            messages.SUCCESS,
        )

    def deactivate_view(self, request, pk: int):
        user = get_object_or_404(get_user_model(), pk=pk)
        if not self.has_change_permission(request, user):
            return redirect("admin:index")
        self.deactivate_one(request, user)
        return redirect("admin:auth_user_change", pk)

    @admin.action(description="Deactivate the selected users (sessions ended, tokens revoked)")
    def deactivate(self, request, queryset):
        for user in queryset:
            self.deactivate_one(request, user)


@admin.register(SsoGroupMapping)
class SsoGroupMappingAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Which provider group gives which role in which team (also `manage.py sso_map`)."""

    list_display = ["group", "tenant", "role", "created"]
    list_filter = ["role", "tenant"]
    search_fields = ["group", "tenant__name"]
    autocomplete_fields = ["tenant"]


@admin.register(SsoIdentity)
class SsoIdentityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Who each provider person is here; made by their first sign-in."""

    list_display = ["user", "subject", "issuer", "created", "last_sign_in"]
    search_fields = ["user__username", "subject", "issuer"]
    readonly_fields = ["user", "issuer", "subject", "created", "last_sign_in"]

    def has_add_permission(self, request):
        return False


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass
