"""Docker's own view of a network (`docker network inspect`): who may see it, and when.

It lists every team's containers on the network, so it is for the network's own team, not for the
teams it is shared with; and the swarm has it only once the network is active. The page and the API
both ask `network_inspect_refusal` before a worker asks the swarm (networks.network_inspect).
"""

from __future__ import annotations

from networks.models import Network
from plumbing.errors import ServiceError
from portal.models import Tenant

SHARED_NETWORK = "shared_network"


def network_inspect_refusal(*, tenant: Tenant, network: Network) -> ServiceError | None:
    """Why the team may not see Docker's view of the network now, or None when it may."""
    if network.tenant_id != tenant.pk:
        assert network.tenant is not None, "a network another team may see is shared by the team that owns it"
        return ServiceError(
            SHARED_NETWORK,
            f"{network.tenant.name} shares this network with your team; Docker's view of it, with every team's "
            "containers, is for its own team.",
            http_status=403,
        )
    if network.status != Network.Status.ACTIVE or not network.docker_id:
        return ServiceError(
            "bad_state",
            f'Network "{network.name}" is {network.get_status_display().lower()}; inspect it once it is active.',
            http_status=409,
        )
    return None
