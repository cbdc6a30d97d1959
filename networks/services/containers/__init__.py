"""Containers on overlay networks, one module per idea: `specs` (what a run asks for), `placement`, `run`,
`lifecycle`, `state` (what Docker reports), `system` (Consul agents) and `images`.

New code imports from those modules. This face hands on the names that modules outside the package
imported from the single `containers` module before the split.
"""

from .images import cluster_images_run
from .lifecycle import container_action_request, container_remove_exited
from .run import container_run
from .specs import RESTART_POLICIES, masked_environment
from .state import container_port_query, container_refresh
from .system import system_containers_sync

__all__ = [
    "RESTART_POLICIES",
    "cluster_images_run",
    "container_action_request",
    "container_port_query",
    "container_refresh",
    "container_remove_exited",
    "container_run",
    "masked_environment",
    "system_containers_sync",
]
