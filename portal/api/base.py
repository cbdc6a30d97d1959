"""What every tenant-scoped API view shares: the tenant of the request and its roles, lists, 404s."""

from __future__ import annotations

from rest_framework import permissions, viewsets

from plumbing.api.filters import StrictOrderingFilter, TenantFilterBackend
from plumbing.errors import found
from portal.team_token_user import TeamTokenUser
from portal.tenancy import OWNERS_ONLY, STAFF_ONLY, membership_for_request


class TenantRolePermission(permissions.BasePermission):
    """The UI's rules: viewers read, members and owners change, owners manage members.

    The tenant is the `X-Tenant` header (a slug) or the user's first membership, as in the UI.
    A view says what an unsafe method needs with `role_required` ("change" or "manage"); reads
    need `role_required_for_read` (None: any member). `manage_refusal` is the sentence owners-only
    changes are refused with, when they are about more than members and policies.
    """

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        membership = membership_for_request(request)
        request.membership = membership
        request.tenant = membership.tenant if membership else None
        if membership is None:
            slug = request.headers.get("X-Tenant")
            self.message = (
                f'You are not a member of a tenant "{slug}". Leave out X-Tenant to use your first tenant.'
                if slug
                else "You are not a member of any tenant. Ask an admin to add you to one."
            )
            if isinstance(request.user, TeamTokenUser):
                self.message = (
                    f'This token belongs to the team "{request.user.token.tenant.slug}" and reaches no other. '
                    "Leave out X-Tenant, or use a token of that team."
                )
            return False
        needed = getattr(view, "role_required_for_read", None)
        if request.method not in permissions.SAFE_METHODS:
            needed = getattr(view, "role_required", "change")
        if needed == "manage" and not membership.can_manage:
            self.message = getattr(view, "manage_refusal", OWNERS_ONLY)
            return False
        if needed == "change" and not membership.can_change:
            self.message = (
                "This team token is a viewer: it only reads. An owner of the team can make a member token."
                if isinstance(request.user, TeamTokenUser)
                else "Your role in this tenant is read-only. Ask an owner to make you a member."
            )
            return False
        return True


class StaffPermission(permissions.BasePermission):
    """The portal's staff, whichever team they are in, if any (request.tenant is that team, or None)."""

    message = STAFF_ONLY

    def has_permission(self, request, view) -> bool:
        membership = membership_for_request(request)
        request.membership = membership
        request.tenant = membership.tenant if membership else None
        return bool(request.user and request.user.is_active and request.user.is_staff)


class PersonOnlyPermission(permissions.BasePermission):
    """A person (their token or session), not a team token: for what belongs to people, such as tokens."""

    message = "A team token cannot manage tokens. An owner of the team manages them on the Tokens page."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.user, TeamTokenUser)


class TenantViewSet(viewsets.GenericViewSet):
    """Tenant-scoped reads through selectors; a missing or foreign id is the same 404 sentence."""

    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    filter_backends = [TenantFilterBackend, StrictOrderingFilter]
    lookup_value_regex = r"[0-9]{1,18}"  # larger ids cannot exist; the catch-all answers them with a 404
    noun = "object"
    selector_get = None  # selector(*, tenant, pk)

    def scoped_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular looks at the model only
            return self.serializer_class.Meta.model.objects.none()
        return self.scoped_queryset()

    def get_object(self):
        obj = found(type(self).selector_get, self.noun, tenant=self.request.tenant, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj
