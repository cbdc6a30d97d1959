"""Registered swarms, one module per idea: connect, credentials, registration, rotation, health,
merge and state_store. Import from those modules; this face keeps the tasks' and the API's imports."""

from .connect import cluster_connect_answer
from .health import cluster_refresh_health, cluster_refresh_health_ask, cluster_test_ask, cluster_test_run
from .registration import cluster_deregister, cluster_first_tenant, cluster_register_ask
from .rotation import cluster_credentials_rotate_ask
from .state_store import state_store_outage

__all__ = [
    "cluster_connect_answer",
    "cluster_credentials_rotate_ask",
    "cluster_deregister",
    "cluster_first_tenant",
    "cluster_refresh_health",
    "cluster_refresh_health_ask",
    "cluster_register_ask",
    "cluster_test_ask",
    "cluster_test_run",
    "state_store_outage",
]
