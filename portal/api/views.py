"""The tenancy part of the REST API: a tenant's members and audit log (owners only), a user's own API
tokens and the team tokens of the teams they own."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

import portal.authentication  # noqa: F401  (registers the token scheme with drf-spectacular)
from plumbing.api.fields import valid
from plumbing.api.schema import ALWAYS, error, errors
from plumbing.errors import found
from portal import selectors as portal_selectors
from portal import services as portal_services
from portal.actors import Actor
from portal.filters import AuditEntryFilterSet
from portal.tenancy import membership_for_request

from . import serializers as s
from .base import PersonOnlyPermission, TenantViewSet
from .renderers import AuditCsvRenderer

# --- the tenant's members ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The tenant's members and their roles (owners only)"),
    retrieve=extend_schema(summary="A membership (owners only)"),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = s.MembershipSerializer
    noun = "member"
    role_required = "manage"
    role_required_for_read = "manage"
    ordering_fields = ["created", "role", "user__username"]
    ordering = ["user__username"]

    selector_get = staticmethod(portal_selectors.membership_get)

    def scoped_queryset(self):
        return portal_selectors.membership_list(tenant=self.request.tenant)

    @extend_schema(
        summary="Add an existing user to the tenant",
        request=s.MembershipCreateSerializer,
        responses={201: s.MembershipSerializer, **errors(409)},
    )
    def create(self, request):
        data = valid(s.MembershipCreateSerializer, request)
        membership = portal_services.membership_add(actor=Actor.of(request), tenant=request.tenant, **data)
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a member's role",
        request=s.MembershipUpdateSerializer,
        responses={200: s.MembershipSerializer, **errors(409)},
    )
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        data = valid(s.MembershipUpdateSerializer, request)
        membership = portal_services.membership_role_change(
            actor=Actor.of(request), membership=membership, role=data["role"]
        )
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(summary="Remove a member from the tenant", responses={204: None, **errors(409)})
    def destroy(self, request, pk=None):
        membership = self.get_object()
        portal_services.membership_remove(actor=Actor.of(request), membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the user's API tokens --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Your API tokens and your teams' tokens (keys are never shown again)"),
    retrieve=extend_schema(summary="One of your API tokens, or a team token of a team you own"),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """A person's own tokens, which belong to them, not to a tenant; and, for owners, their teams' tokens.
    A team token reaches none of it (403): people manage tokens."""

    serializer_class = s.ApiTokenSerializer
    permission_classes = [permissions.IsAuthenticated, PersonOnlyPermission]
    filter_backends = TenantViewSet.filter_backends[1:]
    tenant_scoped = False
    noun = "token"
    ordering_fields = ["created", "last_used", "name", "expires"]
    ordering = ["-created"]

    def scoped_queryset(self):
        return portal_selectors.api_token_manageable(user=self.request.user)

    def acting_tenant(self):
        """The tenant the user works in (X-Tenant or their first): its audit log records their tokens."""
        membership = membership_for_request(self.request)
        return membership.tenant if membership else None

    def get_object(self):
        return found(portal_selectors.api_token_manageable_get, self.noun, user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Create a token (or, with tenant and role, a team token); its key is in this answer only",
        request=s.ApiTokenCreateSerializer,
        responses={201: s.ApiTokenCreatedSerializer, **errors(403)},
    )
    def create(self, request):
        data = valid(s.ApiTokenCreateSerializer, request)
        team = None
        if "tenant" in data:
            team = found(
                portal_selectors.user_tenant_get, "team", field="tenant", user=request.user, slug=data["tenant"]
            )
        token, key = portal_services.api_token_create(
            actor=Actor.of(request),
            user=request.user,
            name=data["name"],
            tenant=self.acting_tenant(),
            team=team,
            role=data.get("role", ""),
            expires=data.get("expires"),
            read_only=data["read_only"],
        )
        return Response(s.ApiTokenCreatedSerializer(token, context={"key": key}).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke a token: it stops working at once", responses={200: s.ApiTokenSerializer})
    def destroy(self, request, pk=None):
        token = portal_services.api_token_revoke(
            actor=Actor.of(request), token=self.get_object(), tenant=self.acting_tenant()
        )
        return Response(s.ApiTokenSerializer(token).data)


# --- the tenant's audit log -------------------------------------------------------------------

# The file is CSV; a refusal keeps the API's JSON error shape.
CSV_RESPONSES = {
    (200, "text/csv"): OpenApiTypes.STR,
    **{(int(code), "application/json"): error(code) for code in ALWAYS},
}


@extend_schema_view(
    list=extend_schema(summary="The tenant's audit log, newest first (owners only); ?format=csv for CSV"),
    retrieve=extend_schema(summary="An audit entry (owners only)"),
)
class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Read-only: entries are never changed or deleted, so every other method is a 405."""

    serializer_class = s.AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, AuditCsvRenderer]  # the API's JSON, or CSV
    noun = "audit entry"
    role_required = "manage"
    role_required_for_read = "manage"
    ordering_fields = ["created", "action", "actor"]
    ordering = ["-created", "-id"]

    selector_get = staticmethod(portal_selectors.audit_entry_get)

    def scoped_queryset(self):
        return portal_selectors.audit_entry_list(tenant=self.request.tenant)

    def list(self, request, *args, **kwargs):
        if isinstance(request.accepted_renderer, AuditCsvRenderer):
            return self.export(request)
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="The filtered audit log as CSV (owners only)",
        parameters=[
            OpenApiParameter("action", OpenApiTypes.STR, description="An action such as network.create, or its start."),
            OpenApiParameter("user", OpenApiTypes.STR, description='A username, or "manage.py".'),
            OpenApiParameter("after", OpenApiTypes.DATE, description="Entries from this day on."),
            OpenApiParameter("before", OpenApiTypes.DATE, description="Entries up to this day."),
            OpenApiParameter("ordering", OpenApiTypes.STR, description="created, action or actor; - reverses."),
        ],
        responses=CSV_RESPONSES,
    )
    def export(self, request):
        """GET /api/v1/audit/export.csv (networks/api/urls.py maps it: a file's address ends in .csv)."""
        entries = self.filter_queryset(self.get_queryset())
        return Response(self.get_serializer(entries, many=True).data)
