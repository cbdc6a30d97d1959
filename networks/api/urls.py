"""The REST mirror under /api/v1/, its OpenAPI schema and a self-hosted Swagger UI."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from plumbing.api.errors import not_found_view
from portal.api import views as portal_views
from portal.api.renderers import AuditCsvRenderer

from .views.clusters import ClusterViewSet
from .views.containers import ContainerViewSet
from .views.networks import NetworkViewSet
from .views.operations import OperationViewSet
from .views.registry_logins import RegistryLoginViewSet

app_name = "api"


class Router(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = Router()
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("networks", NetworkViewSet, basename="network")
router.register("containers", ContainerViewSet, basename="container")
router.register("operations", OperationViewSet, basename="operation")
router.register("registry-logins", RegistryLoginViewSet, basename="registry-login")
router.register("members", portal_views.MembershipViewSet, basename="member")
router.register("tokens", portal_views.ApiTokenViewSet, basename="token")
router.register("audit", portal_views.AuditEntryViewSet, basename="audit")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script is a file of its own (?script=) and its page has no <style>: the Content-Security-Policy
    # allows neither inline.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    # the export is a file: its address ends in .csv, not in the router's slash
    path(
        "audit/export.csv",
        portal_views.AuditEntryViewSet.as_view({"get": "export"}, renderer_classes=[AuditCsvRenderer]),
        name="audit-export-csv",
    ),
    path("", include(router.urls)),
    re_path(r"^[\s\S]*$", not_found_view),  # any path, newlines included
]
