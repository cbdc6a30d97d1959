"""The portal's pages (the REST mirror lives in networks/api/urls.py)."""

from django.urls import path

from .views import clusters, containers, dashboard, metrics, network_details, networks, operations, registries, unused

app_name = "networks"
urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("networks/", networks.network_list_view, name="network_list"),
    path("networks/new/", networks.network_create_view, name="network_create"),
    path("networks/new/preview/", networks.network_preview_view, name="network_preview"),
    path("networks/unused/", unused.network_unused_view, name="network_unused"),
    path("networks/<int:pk>/", networks.network_detail_view, name="network_detail"),
    path("networks/<int:pk>/status/", networks.network_status_view, name="network_status"),
    path("networks/<int:pk>/inspect/", networks.network_inspect_view, name="network_inspect"),
    path("networks/<int:pk>/connect/", networks.network_connect_view, name="network_connect"),
    path(
        "networks/<int:pk>/disconnect/<int:container_pk>/",
        networks.network_disconnect_view,
        name="network_disconnect",
    ),
    path("networks/<int:pk>/remove/", networks.network_remove_view, name="network_remove"),
    path("networks/<int:pk>/share/", networks.network_share_view, name="network_share"),
    path("networks/<int:pk>/describe/", network_details.network_describe_view, name="network_describe"),
    path("networks/<int:pk>/unshare/<int:tenant_pk>/", networks.network_unshare_view, name="network_unshare"),
    path("containers/", containers.container_list_view, name="container_list"),
    path("containers/run/", containers.container_run_view, name="container_run"),
    path("containers/run/images/", containers.container_images_view, name="container_images"),
    path("containers/remove-exited/", containers.container_remove_exited_view, name="container_remove_exited"),
    path("containers/<int:pk>/", containers.container_detail_view, name="container_detail"),
    path("containers/<int:pk>/status/", containers.container_status_view, name="container_status"),
    path("containers/<int:pk>/logs/", containers.container_logs_view, name="container_logs"),
    path("containers/<int:pk>/diagnose/", containers.container_diagnose_view, name="container_diagnose"),
    path("containers/<int:pk>/<slug:action>/", containers.container_action_view, name="container_action"),
    path("operations/", operations.operation_list_view, name="operation_list"),
    path("operations/<int:pk>/", operations.operation_detail_view, name="operation_detail"),
    path("operations/<int:pk>/progress/", operations.operation_progress_view, name="operation_progress"),
    path("operations/<int:pk>/row/", operations.operation_row_view, name="operation_row"),
    path("registries/", registries.registry_login_list_view, name="registry_login_list"),
    path("registries/<int:pk>/remove/", registries.registry_login_remove_view, name="registry_login_remove"),
    path("map/", clusters.allocation_map_view, name="allocation_map"),
    path("topology/", clusters.topology_view, name="topology"),
    path("clusters/", clusters.cluster_list_view, name="cluster_list"),
    path("clusters/register/", clusters.cluster_register_view, name="cluster_register"),
    path("clusters/<int:pk>/", clusters.cluster_detail_view, name="cluster_detail"),
    path("clusters/<int:pk>/test/", clusters.cluster_test_view, name="cluster_test"),
    path("clusters/<int:pk>/credentials/", clusters.cluster_credentials_view, name="cluster_credentials"),
    path("clusters/<int:pk>/deregister/", clusters.cluster_deregister_view, name="cluster_deregister"),
    path("clusters/<int:pk>/health/", clusters.cluster_health_view, name="cluster_health"),
    path("clusters/<int:pk>/refresh-health/", clusters.cluster_refresh_health_view, name="cluster_refresh_health"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
