"""`docker network inspect`'s shape, as Carina's tutorial shows it: the engine's answer reshaped, and
what the swarm built told apart from what was asked for; no I/O.

In swarm mode each engine lists only its own containers on an overlay network; the caller gathers
every node's and hands them in with the manager's answer.
"""

from __future__ import annotations

# Endpoints the swarm keeps for itself on every overlay network (its load balancer and ingress sandbox).
SWARM_ENDPOINT_PREFIXES = ("lb-", "ingress-")


def network_inspect_document(attrs: dict, containers: dict, *, aux_addresses: dict | None = None) -> dict:
    """The manager's `attrs` of one network with `containers` (every node's, by container id) merged in.

    `aux_addresses` are the ones the portal keeps for the network: the swarm drops them from an overlay
    network's spec, so its own answer has none to show.
    """
    ipam_config = attrs.get("IPAM") or {}
    document = {
        "Name": attrs.get("Name"),
        "Id": attrs.get("Id"),
        "Created": attrs.get("Created"),
        "Scope": attrs.get("Scope"),
        "Driver": attrs.get("Driver"),
        "EnableIPv6": attrs.get("EnableIPv6", False),
        "IPAM": {
            "Driver": ipam_config.get("Driver", "default"),
            "Options": ipam_config.get("Options"),
            "Config": [_ipam_config(c) for c in ipam_config.get("Config") or []],
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
    configs = document["IPAM"]["Config"]
    if aux_addresses and configs and not configs[0].get("AuxiliaryAddresses"):
        configs[0]["AuxiliaryAddresses"] = dict(aux_addresses)
    return document


def _ipam_config(config: dict) -> dict:
    """One address configuration as Docker prints it: IPRange and AuxiliaryAddresses only when set."""
    shown = {"Subnet": config.get("Subnet")}
    if config.get("IPRange"):
        shown["IPRange"] = config["IPRange"]
    shown["Gateway"] = config.get("Gateway")
    if config.get("AuxiliaryAddresses"):
        shown["AuxiliaryAddresses"] = config["AuxiliaryAddresses"]
    return shown


MTU_OPTION = "com.docker.network.driver.mtu"


def network_differences(attrs: dict, *, expected: dict) -> list[str]:
    """What the swarm built unlike what was asked for, one phrase each (empty when it matches).

    `expected` holds subnet, gateway, ip_range ("" for none), mtu (None for Docker's default), attachable,
    internal and encrypted. Auxiliary addresses are not compared: the swarm does not keep them
    (Docker 20.10 drops them from an overlay network's spec), which is why the portal puts them outside
    the IP range (ipam/options.py).
    """
    configs = (attrs.get("IPAM") or {}).get("Config") or [{}]
    config, options = configs[0], attrs.get("Options") or {}
    built = {
        "subnet": config.get("Subnet") or "",
        "gateway": config.get("Gateway") or "",
        "IP range": config.get("IPRange") or "",
        "MTU": options.get(MTU_OPTION) or "",
        "attachable": bool(attrs.get("Attachable")),
        "internal": bool(attrs.get("Internal")),
        "encrypted": "encrypted" in options,
    }
    asked = {
        "subnet": expected["subnet"],
        "gateway": expected["gateway"],
        "IP range": expected.get("ip_range") or "",
        "MTU": str(expected["mtu"]) if expected.get("mtu") is not None else "",
        "attachable": bool(expected.get("attachable", True)),
        "internal": bool(expected.get("internal")),
        "encrypted": bool(expected.get("encrypted")),
    }
    return [
        f"{what} {_shown(built[what])} instead of {_shown(asked[what])}" for what in asked if built[what] != asked[what]
    ]


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return value or "none"
