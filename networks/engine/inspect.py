"""`docker network inspect`'s shape, as Carina's tutorial shows it: the engine's answer reshaped, no I/O.

In swarm mode each engine lists only its own containers on an overlay network; the caller gathers
every node's and hands them in with the manager's answer.
"""

from __future__ import annotations

# Endpoints the swarm keeps for itself on every overlay network (its load balancer and ingress sandbox).
SWARM_ENDPOINT_PREFIXES = ("lb-", "ingress-")


def network_inspect_document(attrs: dict, containers: dict) -> dict:
    """The manager's `attrs` of one network with `containers` (every node's, by container id) merged in."""
    ipam_config = attrs.get("IPAM") or {}
    return {
        "Name": attrs.get("Name"),
        "Id": attrs.get("Id"),
        "Created": attrs.get("Created"),
        "Scope": attrs.get("Scope"),
        "Driver": attrs.get("Driver"),
        "EnableIPv6": attrs.get("EnableIPv6", False),
        "IPAM": {
            "Driver": ipam_config.get("Driver", "default"),
            "Options": ipam_config.get("Options"),
            "Config": [
                {"Subnet": c.get("Subnet"), "Gateway": c.get("Gateway")} for c in ipam_config.get("Config") or []
            ],
        },
        "Internal": attrs.get("Internal", False),
        "Attachable": attrs.get("Attachable", False),
        "Ingress": attrs.get("Ingress", False),
        "Containers": {
            cid: {
                "Name": c.get("Name"),
                "EndpointID": c.get("EndpointID"),
                "MacAddress": c.get("MacAddress"),
                "IPv4Address": c.get("IPv4Address"),
                "IPv6Address": c.get("IPv6Address"),
            }
            for cid, c in containers.items()
            if not cid.startswith(SWARM_ENDPOINT_PREFIXES)
        },
        "Options": attrs.get("Options") or {},
        "Labels": attrs.get("Labels") or {},
    }
