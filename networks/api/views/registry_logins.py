"""A team's logins to private registries over the API; their passwords are written, never read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from networks.selectors.registries import registry_login_get, registry_login_list
from networks.services import registries as registry_services
from plumbing.api.fields import valid
from portal.actors import Actor
from portal.api.base import TenantViewSet

from ..serializers.registry_logins import RegistryLoginCreateSerializer, RegistryLoginSerializer


@extend_schema_view(
    list=extend_schema(summary="The team's logins to private registries (never their passwords)"),
    retrieve=extend_schema(summary="A registry login (never its password)"),
)
class RegistryLoginViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Every member reads them; owners add, replace and remove them. Nothing here reaches a cluster."""

    serializer_class = RegistryLoginSerializer
    noun = "registry login"
    role_required = "manage"
    manage_refusal = registry_services.OWNERS_ONLY
    selector_get = staticmethod(registry_login_get)
    ordering_fields = ["registry", "username", "created", "updated"]
    ordering = ["registry"]

    def scoped_queryset(self):
        return registry_login_list(tenant=self.request.tenant)

    @extend_schema(
        summary="Add a login, or replace the team's login for that registry (the password is write-only)",
        request=RegistryLoginCreateSerializer,
        responses={201: RegistryLoginSerializer},
    )
    def create(self, request):
        data = valid(RegistryLoginCreateSerializer, request)
        login = registry_services.registry_login_set(actor=Actor.of(request), tenant=request.tenant, **data)
        return Response(RegistryLoginSerializer(login).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a login: images from that registry are pulled without one", responses={204: None})
    def destroy(self, request, pk=None):
        login = self.get_object()
        registry_services.registry_login_remove(actor=Actor.of(request), login=login)
        return Response(status=status.HTTP_204_NO_CONTENT)
