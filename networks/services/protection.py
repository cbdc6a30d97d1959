"""The cluster's system containers (its Consul agents) are shown to tenants but never touched by them."""

from networks.models import Container
from plumbing.errors import ServiceError


def check_not_system(container: Container, verb: str) -> None:
    """Refuse any tenant action on a system container; `verb` completes "it cannot be ..."."""
    if container.is_system:
        raise ServiceError(
            "system_container",
            f"{container.name} is a protected system container of the cluster (its Consul agent); "
            f"it cannot be {verb}. Only an admin's cluster rebuild touches it.",
            http_status=403,
        )
