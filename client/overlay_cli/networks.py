"""`overlay network …`: docker network's verbs and flags, through the portal."""

from __future__ import annotations

import click

from .api import ApiError
from .context import Context, detach_option, format_option, pass_context
from .output import finish, print_json, print_table, stderr, wait
from .types import Network, NetworkConnectBody, NetworkCreateBody, NetworkDisconnectBody

MTU_OPTIONS = ("mtu", "com.docker.network.driver.mtu")


def pairs(values: tuple[str, ...], flag: str, *, bare: bool = False) -> dict[str, str]:
    """KEY=VALUE flags as a dict; a bare KEY is "" when allowed (docker's --label)."""
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not key or (not sep and not bare):
            raise click.BadParameter(f'"{value}" is not KEY=VALUE.', param_hint=flag)
        result[key] = rest
    return result


@click.group()
def network() -> None:
    """Manage overlay networks."""


@network.command("create")
@click.argument("name")
@click.option("--driver", "-d", default="overlay", help="Only overlay: the portal makes overlay networks.")
@click.option("--subnet", default="", help="A CIDR, e.g. 10.0.9.0/24; without it, the next free block.")
@click.option("--prefix-length", type=click.IntRange(16, 29), help="The size of the next free block (portal's).")
@click.option("--gateway", default="", help="Without it, the subnet's first address.")
@click.option("--ip-range", default="", help="Allocate container addresses from this sub-range.")
@click.option("--aux-address", multiple=True, help="NAME=ADDRESS an address the network must not give out.")
@click.option("--opt", "-o", multiple=True, help="Driver options: mtu=N, encrypted.")
@click.option("--label", multiple=True, help="KEY=VALUE metadata on the network.")
@click.option("--internal", is_flag=True, help="No traffic to or from outside the network.")
@click.option("--encrypted", is_flag=True, help="Encrypt traffic between nodes (IPsec).")
@click.option("--attachable/--no-attachable", default=None, help="Standalone containers may attach.")
@click.option("--detach", is_flag=True, help="Print the operation's id at once, without waiting.")
@pass_context
def network_create(context: Context, name: str, driver: str, subnet: str, prefix_length: int | None, gateway: str,
                   ip_range: str, aux_address: tuple[str, ...], opt: tuple[str, ...], label: tuple[str, ...],
                   internal: bool, encrypted: bool, attachable: bool | None, detach: bool) -> None:  # fmt: skip
    """Create a network (docker network create)."""
    if driver != "overlay":
        raise click.BadParameter("the portal makes overlay networks only.", param_hint="--driver")
    body: NetworkCreateBody = {"name": name}
    options = pairs(opt, "--opt", bare=True)
    mtu = next((options.pop(key) for key in MTU_OPTIONS if key in options), None)
    if "encrypted" in options:
        options.pop("encrypted")
        encrypted = True
    if options:
        raise click.BadParameter(
            f"unknown driver option {sorted(options)[0]}: use mtu=N or encrypted.", param_hint="--opt"
        )
    if subnet:
        body["subnet"] = subnet
    if prefix_length:
        body["prefixlen"] = prefix_length
    if gateway:
        body["gateway"] = gateway
    if internal:
        body["internal"] = True
    if encrypted:
        body["encrypted"] = True
    if label:
        body["labels"] = pairs(label, "--label", bare=True)
    # issue 25's fields: sent only when given, so a portal without them keeps working for everything else
    if ip_range:
        body["ip_range"] = ip_range
    if aux_address:
        body["aux_addresses"] = pairs(aux_address, "--aux-address")
    if mtu is not None:
        if not mtu.isdigit():
            raise click.BadParameter(f'mtu "{mtu}" is not a number.', param_hint="--opt")
        body["mtu"] = int(mtu)
    if attachable is not None:
        body["attachable"] = attachable
    api = context.api
    operation = api.network_create(body)
    if detach:
        click.echo(operation["id"])
        return
    done = wait(api, operation)
    created: Network = api.call("networks_retrieve", id=done["network"])
    click.echo(created.get("docker_id") or created["id"])


@network.command("ls")
@click.option("--filter", "-f", "filters", multiple=True, help="name=…, status=… (as docker's).")
@click.option("--quiet", "-q", is_flag=True, help="Only the ids.")
@format_option
@pass_context
def network_ls(context: Context, filters: tuple[str, ...], quiet: bool, fmt: str) -> None:
    """List networks (docker network ls)."""
    wanted = pairs(filters, "--filter")
    unknown = set(wanted) - {"name", "status"}
    if unknown:
        raise click.BadParameter(f"unknown filter {sorted(unknown)[0]}: use name= or status=.", param_hint="--filter")
    api = context.api
    rows: list[Network] = (
        api.results("networks_list", **wanted) if "status" in wanted else api.live("networks_list", **wanted)
    )
    if quiet:
        for row in rows:
            click.echo(row["id"])
    elif fmt == "json":
        print_json(rows)
    else:
        print_table(
            ["NETWORK ID", "NAME", "DRIVER", "SUBNET", "CLUSTER", "STATUS"],
            [[row["id"], row["name"], "overlay", row["subnet"], row["cluster_name"], row["status"]] for row in rows],
        )


@network.command("inspect")
@click.argument("names", nargs=-1, required=True)
@pass_context
def network_inspect(context: Context, names: tuple[str, ...]) -> None:
    """Docker's own view of networks, with the containers of every node (docker network inspect)."""
    api = context.api
    views: list[dict] = []
    missing = []
    for name in names:
        try:
            views.extend(api.call("networks_inspect", id=api.network_id(name)))
        except ApiError as error:
            if error.status != 404:
                raise
            missing.append(f"Error: No such network: {name}")
    print_json(views)
    if missing:
        raise ApiError("\n".join(missing))


@network.command("rm")
@click.argument("names", nargs=-1, required=True)
@detach_option
@pass_context
def network_rm(context: Context, names: tuple[str, ...], detach: bool) -> None:
    """Remove networks (docker network rm)."""
    api = context.api
    failed = False
    for name in names:
        try:
            operation = api.call("networks_destroy", id=api.network_id(name))
            finish(api, operation, detach=detach, result=name)
        except ApiError as error:
            stderr(error.message)
            failed = True
    if failed:
        raise SystemExit(1)


@network.command("connect")
@click.argument("network_name")
@click.argument("container")
@click.option("--alias", multiple=True, help="Another DNS name of the container on this network.")
@click.option("--ip", default="", help="A static IPv4 address in the subnet.")
@detach_option
@pass_context
def network_connect(context: Context, network_name: str, container: str, alias: tuple[str, ...], ip: str,
                    detach: bool) -> None:  # fmt: skip
    """Connect a container to a network (docker network connect)."""
    api = context.api
    body: NetworkConnectBody = {"container": api.container_id(container)}
    if alias:
        body["aliases"] = list(alias)
    if ip:
        body["ipv4_address"] = ip
    operation = api.call("networks_connect", id=api.network_id(network_name), body=body)
    finish(api, operation, detach=detach, result="")


@network.command("disconnect")
@click.argument("network_name")
@click.argument("container")
@click.option("--force", "-f", is_flag=True, help="Disconnect even when the container is unreachable.")
@detach_option
@pass_context
def network_disconnect(context: Context, network_name: str, container: str, force: bool, detach: bool) -> None:
    """Disconnect a container from a network (docker network disconnect)."""
    api = context.api
    body: NetworkDisconnectBody = {"container": api.container_id(container)}
    if force:
        body["force"] = True
    operation = api.call("networks_disconnect", id=api.network_id(network_name), body=body)
    finish(api, operation, detach=detach, result="")
