"""What the page tests post and read in bulk: the run form's data, a busy tenant (`populate`) for the
tests that count queries, a team's many networks (`many_networks`), and a page's tags read back (`tags_of`, `error_summary_of`). Teams, users,
clusters and the rest are made by tests/factories.py.
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from networks.models import (
    AddressAllocation,
    Cluster,
    ClusterGrant,
    Container,
    Endpoint,
    Network,
    NetworkShare,
    Operation,
    SubnetAllocation,
)
from portal.services import tenant_create
from tests.factories import Team

SKIPPED_PREFIXES = ("admin/", "api/")  # the pages of the portal are every pattern outside these


def run_form(cluster: Cluster, *, env=(), **fields) -> dict:
    """What the run form posts; `env` rows are (name, value, secret)."""
    data = {
        "cluster": cluster.pk,
        "image": "overlay-portal/tools:latest",
        "restart_policy": "no",
        "node": "",
        "ports": "",
        "env-TOTAL_FORMS": str(len(env)),
        "env-INITIAL_FORMS": "0",
    }
    for i, (name, value, secret) in enumerate(env):
        data[f"env-{i}-name"], data[f"env-{i}-value"] = name, value
        if secret:
            data[f"env-{i}-secret"] = "on"
    return {**data, **fields}


def populate(team: Team, count: int) -> dict:
    """A tenant that has been busy: `count` networks with their blocks, containers on a third of them
    (with addresses), networks shared both ways with a partner team on the same swarm (its containers
    on ours too), and operations finished and unfinished. Bulk-made, so 1,000 networks take seconds.

    Returns the objects a test asks pages about: an own network with containers and shares, a
    partner's network shared with the team, a container, an unfinished operation.
    """
    partner = tenant_create(name=f"Partner of {team.tenant.name}")
    ClusterGrant.objects.create(cluster=team.cluster, tenant=partner)
    node = team.node()
    blocks = ipam_blocks(team.cluster, count + count // 10 + 1)
    networks = Network.objects.bulk_create(
        Network(
            tenant=partner if i % 10 == 0 or i == 1 else team.tenant,
            cluster=team.cluster,
            name=f"net-{i:04}",
            subnet=str(block),
            gateway=str(block.network_address + 1),
            status=Network.Status.CREATING if i % 7 == 3 or i == 1 else Network.Status.ACTIVE,
            docker_id=f"{i:064x}",
            created_by=team.owner,
            labels={"app": f"svc{i % 5}"},
        )
        for i, block in enumerate(blocks)
    )
    hold_blocks(team.cluster, networks)
    own = [n for n in networks if n.tenant_id == team.tenant.pk]
    theirs = [n for n in networks if n.tenant_id == partner.pk]
    NetworkShare.objects.bulk_create(
        [NetworkShare(network=n, tenant=partner, created_by=team.owner) for n in own[::4]]
        + [NetworkShare(network=n, tenant=team.tenant) for n in theirs]
    )
    attached = own[::3]

    def box(i: int, name: str, tenant, **fields) -> Container:
        return Container(
            tenant=tenant,
            cluster=team.cluster,
            node=node,
            name=name,
            image="overlay-portal/tools:latest",
            status=Container.Status.RUNNING,
            docker_id=f"c{i:063x}",
            **fields,
        )

    containers = Container.objects.bulk_create(
        box(
            i,
            f"box-{i:04}",
            team.tenant if i % 5 else partner,
            ports=[{"host": 8000 + i, "container": 80, "protocol": "tcp"}] if i % 4 == 1 else [],
            environment=[{"name": "MODE", "value": "x", "secret": False}],
        )
        for i in range(len(attached) + 1)  # the last one on no network: the detail pages offer to connect it
    )
    endpoints, addresses = [], []
    for i, (network, container) in enumerate(zip(attached, containers, strict=False)):
        places = [(network, 2)]
        if theirs and i % 2:
            places.append((theirs[i % len(theirs)], 3 + i // len(theirs)))
        for j, (on, host) in enumerate(places):
            address = str(on.subnet_network.network_address + host)
            endpoints.append(Endpoint(network=on, container=container, ipv4_address=address, aliases=[f"a{j}"]))
            addresses.append(AddressAllocation(network=on, address=address, owner=container.name))
    # The network the detail pages are asked about has more containers the more networks there are.
    crowded = attached[1] if len(attached) > 1 else attached[0]
    crowd = Container.objects.bulk_create(
        box(100_000 + i, f"crowd-{i:04}", team.tenant if i % 3 else partner) for i in range(count // 20)
    )
    for i, container in enumerate(crowd):
        address = str(crowded.subnet_network.network_address + 100 + i)
        endpoints.append(Endpoint(network=crowded, container=container, ipv4_address=address))
        addresses.append(AddressAllocation(network=crowded, address=address, owner=container.name))
    Endpoint.objects.bulk_create(endpoints)
    AddressAllocation.objects.bulk_create(addresses)

    def operation(kind, on, *, message="Done.", **fields) -> Operation:
        at = "2026-01-01T10:00:00+00:00"
        return Operation(
            tenant=fields.pop("tenant", team.tenant),
            cluster=team.cluster,
            kind=kind,
            target=on.name,
            progress=[{"at": at, "message": message}],
            **fields,
        )

    done = Operation.Status.SUCCEEDED
    operations = [
        operation(Operation.Kind.NETWORK_CREATE, n, tenant=n.tenant, network=n, requested_by=team.owner, status=done)
        for n in networks
    ]
    operations += [
        operation(Operation.Kind.CONTAINER_RUN, c, tenant=c.tenant, container=c, status=done) for c in containers
    ]
    for i, network in enumerate(n for n in own if n.status == Network.Status.CREATING):
        operations.append(
            operation(
                Operation.Kind.NETWORK_CONNECT,
                network,
                message="Queued: waiting for a worker.",
                network=network,
                container=containers[0],
                sent=timezone.now() if i % 2 == 0 else None,
            )
        )
    Operation.objects.bulk_create(operations)
    busy = Operation.objects.filter(tenant=team.tenant, sent__isnull=False).unfinished().first()
    return {
        "partner": partner,
        "network": crowded,
        "shared": theirs[0],
        "container": containers[1],
        "operation": busy,
    }


def many_networks(team: Team, count: int) -> list[Network]:
    """`count` active networks of the team (net-0000 …), each with its block held: bulk-made in seconds."""
    networks = Network.objects.bulk_create(
        Network(
            tenant=team.tenant,
            cluster=team.cluster,
            name=f"net-{i:04}",
            subnet=str(block),
            gateway=str(block.network_address + 1),
            status=Network.Status.ACTIVE,
            docker_id=f"{i:064x}",
            created_by=team.owner,
        )
        for i, block in enumerate(ipam_blocks(team.cluster, count))
    )
    hold_blocks(team.cluster, networks)
    return networks


def hold_blocks(cluster: Cluster, networks: list[Network]) -> None:
    """Each bulk-made network's block held, as subnet_allocate holds it."""
    SubnetAllocation.objects.bulk_create(
        SubnetAllocation(
            cluster=cluster,
            network=network,
            cidr=network.subnet,
            first=int(network.subnet_network.network_address),
            last=int(network.subnet_network.broadcast_address),
            owner=f'network "{network.name}"',
        )
        for network in networks
    )


def ipam_blocks(cluster: Cluster, count: int) -> list:
    """The first `count` blocks of the cluster's pool at its default size, clear of its reserved ranges."""
    reserved = [r.network for r in cluster.reserved_ranges.all()]
    blocks = []
    for block in cluster.pool.subnets(new_prefix=cluster.default_prefixlen):
        if not any(block.overlaps(r) for r in reserved):
            blocks.append(block)
        if len(blocks) == count:
            return blocks
    return blocks


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.summary: list[tuple[str | None, str]] = []  # (href or None, text) of each item of the summary
        self.depth = 0  # > 0 inside the error summary
        self.href: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if self.depth or "data-error-summary" in attributes:
            self.depth += tag not in ("input", "br")
        if self.depth and tag == "li":
            self.summary.append((None, ""))
        if self.depth and tag == "a":
            self.summary[-1] = (attributes.get("href"), self.summary[-1][1])

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and self.summary:
            href, text = self.summary[-1]
            self.summary[-1] = (href, text + data)


def tags_of(page: str) -> list[tuple[str, dict]]:
    """Every start tag of the page with its attributes, in order."""
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def tag_with_id(page: str, element_id: str) -> dict:
    """The attributes of the element with that id (AssertionError when there is none)."""
    found = [attrs for _, attrs in tags_of(page) if attrs.get("id") == element_id]
    assert len(found) == 1, f"{len(found)} elements with id {element_id}"
    return found[0]


def error_summary_of(page: str) -> list[tuple[str | None, str]]:
    """The error summary's items: (the link's href or None, the text)."""
    parser = _Tags()
    parser.feed(page)
    return [(href, " ".join(text.split())) for href, text in parser.summary]


def page_routes(resolver=None, prefix: str = ""):
    """(route, url name) of every page pattern outside the admin and the API: what the page fuzz and
    the accessibility check visit."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            yield from page_routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, f"{resolver.namespace}:{pattern.name}" if resolver.namespace else (pattern.name or "")
