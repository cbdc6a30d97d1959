"""Networks as code: `overlay apply -f networks.yaml` plans and carries out a team's desired networks;
`overlay export` writes that file for what exists, so applying it again plans nothing.

The file: `networks:`, a list of {name, subnet or prefix_length, gateway, internal, encrypted,
labels, shared_with, and ip_range, aux_addresses, mtu, attachable where the portal takes them}.
A plan creates what is missing, shares and unshares, and removes only with --prune, never a network
with containers attached. A field the portal cannot change in place is a note, not an action.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml

from .api import Api, ApiError
from .context import Context, pass_context
from .output import wait, wait_all
from .types import Network, NetworkCreateBody

COMPARED = ("subnet", "gateway", "internal", "encrypted", "labels", "ip_range", "aux_addresses", "mtu", "attachable")
KNOWN = {"name", "prefix_length", "shared_with", *COMPARED}


@dataclass
class Step:
    sign: str
    verb: str
    network: str
    detail: str = ""
    run: Callable[[], None] | None = field(default=None, repr=False)
    body: NetworkCreateBody | None = field(default=None, repr=False)  # a create: made with the others at once

    def line(self) -> str:
        return f"  {self.sign} {self.verb:<8} {self.network}{' ' + self.detail if self.detail else ''}"


def read_desired(path: Path) -> list[dict[str, Any]]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}", param_hint="-f") from error
    networks = data.get("networks") if isinstance(data, dict) else None
    if not isinstance(networks, list):
        raise click.BadParameter(f"{path} needs a list under `networks:`.", param_hint="-f")
    names: set[str] = set()
    for index, entry in enumerate(networks, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise click.BadParameter(f"network {index} of {path} needs a name.", param_hint="-f")
        unknown = set(entry) - KNOWN
        if unknown:
            raise click.BadParameter(
                f"{entry['name']}: unknown field {sorted(unknown)[0]} (known: {', '.join(sorted(KNOWN))}).",
                param_hint="-f",
            )
        if entry["name"] in names:
            raise click.BadParameter(f"{entry['name']} is in {path} twice.", param_hint="-f")
        names.add(entry["name"])
    return networks


def create_body(entry: dict[str, Any]) -> NetworkCreateBody:
    body: dict[str, Any] = {key: entry[key] for key in ("name", *COMPARED) if key in entry}
    if "prefix_length" in entry:
        body["prefixlen"] = entry["prefix_length"]
    return body  # type: ignore[return-value]


def make_plan(api: Api, desired: list[dict[str, Any]], prune: bool) -> tuple[list[Step], list[str]]:
    existing: list[Network] = api.live("networks_list")
    own = {n["name"]: n for n in existing if not n["shared"] and not n.get("is_external")}
    steps: list[Step] = []
    notes: list[str] = []
    for entry in desired:
        name = entry["name"]
        network = own.get(name)
        wanted_shares = set(entry.get("shared_with") or [])
        if network is None:
            steps.append(Step("+", "create", name, entry.get("subnet", ""), body=create_body(entry)))
            have_shares: set[str] = set()
        else:
            for key in COMPARED:
                if key in entry and key in network and entry[key] != network[key]:  # type: ignore[literal-required]
                    notes.append(
                        f"{name}: {key} is {network[key]!r} on the portal, {entry[key]!r} in the file; "  # type: ignore[literal-required]
                        "the portal cannot change it in place: remove and recreate the network to change it."
                    )
            have_shares = set(network["shared_with"])
        if "shared_with" in entry:
            for team in sorted(wanted_shares - have_shares):
                steps.append(Step("~", "share", name, f"with {team}", _sharer(api, name, "networks_share", team)))
            for team in sorted(have_shares - wanted_shares):
                steps.append(Step("~", "unshare", name, f"from {team}", _sharer(api, name, "networks_unshare", team)))
    if prune:
        wanted = {entry["name"] for entry in desired}
        for name, network in sorted(own.items()):
            if name in wanted:
                continue
            if network["containers"]:
                attached = ", ".join(c["container_name"] for c in network["containers"])
                notes.append(f"{name} is kept: containers are attached ({attached}); a plan never removes it.")
            else:
                steps.append(Step("-", "remove", name, "", _remover(api, network["id"])))
    return steps, notes


def _sharer(api: Api, name: str, endpoint: str, team: str) -> Callable[[], None]:
    def run() -> None:
        answer = api.call(endpoint, id=api.network_id(name), body={"tenant": team})
        for operation in (answer or {}).get("operations", []):
            wait(api, operation)

    return run


def _remover(api: Api, network_id: int) -> Callable[[], None]:
    def run() -> None:
        wait(api, api.call("networks_destroy", id=network_id))

    return run


@click.command()
@click.option(
    "--file", "-f", "path", type=click.Path(path_type=Path), required=True, help="The networks file (- for stdin)."
)
@click.option(
    "--prune", is_flag=True, help="Also remove the team's networks the file does not name (never one in use)."
)
@click.option("--dry-run", is_flag=True, help="Only print the plan.")
@click.option("--yes", "-y", is_flag=True, help="Carry out the plan without asking.")
@pass_context
def apply(context: Context, path: Path, prune: bool, dry_run: bool, yes: bool) -> None:
    """Make the team's networks what a file says: plan, ask, carry out, wait."""
    desired = read_desired(path)
    api = context.api
    steps, notes = make_plan(api, desired, prune)
    for note in notes:
        click.echo(f"Note: {note}", err=True)
    if not steps:
        click.echo("Nothing to do: the networks are as the file says.")
        return
    click.echo("Plan:")
    for step in steps:
        click.echo(step.line())
    if dry_run:
        return
    if not yes:
        click.confirm("Carry out this plan?", abort=True, err=True)
    creates = [step for step in steps if step.body is not None]
    if creates:
        create_together(api, creates)
    for step in steps:
        if step.run is not None:
            step.run()
            done(step)


def create_together(api: Api, steps: list[Step]) -> None:
    """The plan's creates in one request (`POST /api/v1/networks/batch/`, 100 a request), followed together;
    each is reported; the first refusal or failure stops the plan after the others have finished."""
    results = api.networks_create_batch([step.body for step in steps if step.body is not None])
    answered = list(zip(steps, results, strict=True))  # in order (a result's `index` counts in its request)
    refused = [f"{step.network}: {r['error']['message']}" for step, r in answered if r["error"]]
    operations = [r["operation"] for _, r in answered if r["operation"] is not None]
    by_id = {operation["id"]: step for step, r in answered if (operation := r["operation"])}
    failed = []
    for operation in wait_all(api, operations):
        if operation["status"] == "failed":
            failed.append(f"{by_id[operation['id']].network}: {operation.get('error') or 'failed'}")
        else:
            done(by_id[operation["id"]])
    if refused or failed:
        raise ApiError("; ".join(refused + failed))


def done(step: Step) -> None:
    click.echo(f"{step.verb} {step.network}{' ' + step.detail if step.detail else ''}: done")


@click.command()
@click.option("--file", "-f", "path", type=click.Path(path_type=Path), default=None, help="Write here, not to stdout.")
@pass_context
def export(context: Context, path: Path | None) -> None:
    """Write the networks file for the team's networks as they are."""
    networks: list[Network] = context.api.live("networks_list")
    entries = []
    for network in networks:
        if network["shared"] or network.get("is_external") or network["status"] != "active":
            continue
        entry: dict[str, Any] = {"name": network["name"]}
        for key in COMPARED:
            if key in network:
                entry[key] = network[key]  # type: ignore[literal-required]
        entry["shared_with"] = sorted(network["shared_with"])
        entries.append(entry)
    text = yaml.safe_dump({"networks": entries}, sort_keys=False, allow_unicode=True)
    if path is None:
        click.echo(text, nl=False)
    else:
        path.write_text(text)
        click.echo(f"Wrote {len(entries)} networks to {path}", err=True)
