"""Safe host ports, as rows: the node's own ports refused with what holds them, another container's port
refused with its holder (named only when it is the team's own), spread placing a run where its port is free."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from networks.engine.nodes import parse_listening
from networks.models import Container, Node
from networks.services.containers.run import container_run
from networks.services.containers.specs import PublishedPort
from networks.services.grants import cluster_grant
from networks.services.ports import NODE_PORTS, ReservedPort, check_not_reserved, parse_reserved, reserved_ports
from plumbing.errors import ServiceError
from portal.actors import Actor

# Written out, not read from the table: a port dropped from the table or a changed sentence fails here.
RESERVED = [
    ("22:80", "Host port 22/tcp is the node's SSH server on every node"),
    ("2375:80", "Host port 2375/tcp is the Docker API on every node"),
    ("2376:80", "Host port 2376/tcp is the Docker API over TLS on every node"),
    ("2377:80", "Host port 2377/tcp is swarm management (the managers' Raft and node joins) on every node"),
    ("7946:80", "Host port 7946/tcp is swarm gossip (the nodes finding each other) on every node"),
    ("7946:80/udp", "Host port 7946/udp is swarm gossip (the nodes finding each other) on every node"),
    ("4789:80/udp", "Host port 4789/udp is the VXLAN traffic of the overlay networks on every node"),
    ("8300:80", "Host port 8300/tcp is the cluster's Consul server RPC on every node"),
    ("8301:80", "Host port 8301/tcp is the cluster's Consul LAN gossip (Serf) on every node"),
    ("8301:80/udp", "Host port 8301/udp is the cluster's Consul LAN gossip (Serf) on every node"),
    ("8302:80", "Host port 8302/tcp is the cluster's Consul WAN gossip (Serf) on every node"),
    ("8302:80/udp", "Host port 8302/udp is the cluster's Consul WAN gossip (Serf) on every node"),
    ("8500:80", "Host port 8500/tcp is the cluster's Consul HTTP API on every node"),
    ("8600:53", "Host port 8600/tcp is the cluster's Consul DNS on every node"),
    ("8600:53/udp", "Host port 8600/udp is the cluster's Consul DNS on every node"),
]
PICK_ANOTHER = "; pick another host port, such as 8080."
WEB = "overlay-portal/tools:latest"


def run(team, name="web", *, tenant=None, **kwargs):
    return container_run(
        actor=Actor.system("tests"), tenant=tenant or team.tenant, cluster=team.cluster, name=name, image=WEB, **kwargs
    )


def holder(team, name, *, node="node1", tenant=None, status=Container.Status.RUNNING, **fields):
    """A container on `team`'s cluster holding host port 8080/tcp (its tenant may be another team's)."""
    fields.setdefault("ports", [{"host": 8080, "container": 80, "protocol": "tcp"}])
    return Container.objects.create(
        tenant=tenant or team.tenant,
        cluster=team.cluster,
        node=team.node(node),
        name=name,
        image=WEB,
        status=status,
        docker_id=f"id-{name}",
        **fields,
    )


def refusal(call) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        call()
    assert refused.value.field == "ports"
    return refused.value


# --- the node's own ports ------------------------------------------------------------------------------------


def test_the_table_holds_every_port_the_tests_name():
    assert len(RESERVED) == len(NODE_PORTS)


@pytest.mark.django_db
@pytest.mark.parametrize(("spec", "sentence"), RESERVED)
def test_a_port_the_node_serves_is_refused_before_anything_runs(team, spec, sentence):
    for node in (None, team.node("node2")):
        error = refusal(lambda node=node: run(team, ports=["8080:8080", spec], node=node))
        assert error.code == "port_reserved" and error.http_status == 400
        assert error.message == sentence + PICK_ANOTHER
    assert not Container.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("spec", ["4789:80", "2375:80/udp", "8500:80/udp", "8080:80", "80:80", "22", "8500"])
def test_the_other_protocol_and_unpinned_host_ports_are_accepted(team, spec):
    assert run(team, ports=[spec]).container.ports


def test_the_suggestion_skips_reserved_ports(settings):
    settings.NODE_RESERVED_PORTS = "8080-8081/tcp:the node's web proxy"
    with pytest.raises(ServiceError) as refused:
        check_not_reserved([PublishedPort(8500, 80, "tcp")])
    assert refused.value.message.endswith("pick another host port, such as 8082.")
    with pytest.raises(ServiceError) as refused:
        check_not_reserved([PublishedPort(8080, 80, "tcp")])
    assert refused.value.message == (
        "Host port 8080/tcp is the node's web proxy on every node; pick another host port, such as 8082."
    )
    check_not_reserved([PublishedPort(8080, 80, "udp"), PublishedPort(None, 8500, "tcp")])


@pytest.mark.django_db
def test_the_operator_adds_ports_the_nodes_run(team, settings):
    settings.NODE_RESERVED_PORTS = "9100/tcp:the node exporter, 5353/tcp+udp:the node's mDNS"
    error = refusal(lambda: run(team, ports=["9100:80"]))
    assert error.message == "Host port 9100/tcp is the node exporter on every node" + PICK_ANOTHER
    error = refusal(lambda: run(team, ports=["5353:53/udp"]))
    assert error.message == "Host port 5353/udp is the node's mDNS on every node" + PICK_ANOTHER
    assert refusal(lambda: run(team, ports=["8500:80"])).code == "port_reserved"  # the built-in table still holds
    settings.NODE_RESERVED_PORTS = ""
    assert run(team, ports=["9100:80"]).container.ports[0]["host"] == 9100


# --- the setting's syntax ---------------------------------------------------------------------------------------


def test_reserved_port_entries_as_an_operator_writes_them():
    assert parse_reserved("") == ()
    assert parse_reserved(" 9100/tcp:node exporter , 53/udp:dnsmasq,") == (
        ReservedPort(9100, "tcp", "node exporter"),
        ReservedPort(53, "udp", "dnsmasq"),
    )
    assert parse_reserved("9100:exporter") == (ReservedPort(9100, "tcp", "exporter"),)
    assert parse_reserved("5000-5001/tcp+udp:a registry") == (
        ReservedPort(5000, "tcp", "a registry"),
        ReservedPort(5000, "udp", "a registry"),
        ReservedPort(5001, "tcp", "a registry"),
        ReservedPort(5001, "udp", "a registry"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "9100",
        "9100/tcp",
        "9100:",
        "9100: ",
        "0:x",
        "70000:x",
        "9101-9100:x",
        "9100/sctp:x",
        "a:x",
        "1-2000:x",
        "x,9100",
    ],
)
def test_a_bad_entry_says_how_to_write_one(text):
    with pytest.raises(ImproperlyConfigured, match=r"NODE_RESERVED_PORTS: .* Write PORT\[-LAST\]"):
        parse_reserved(text)


def test_a_mistyped_setting_stops_the_process_at_start_not_a_run():
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "true"}
    root = Path(__file__).resolve().parents[3]
    check = [sys.executable, "manage.py", "check"]
    result = subprocess.run(
        check, cwd=root, env={**env, "NODE_RESERVED_PORTS": "9100"}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert 'NODE_RESERVED_PORTS: "9100" is not a reserved port.' in result.stderr
    result = subprocess.run(
        check, cwd=root, env={**env, "NODE_RESERVED_PORTS": "9100:x"}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_setting_can_describe_a_built_in_port_better(settings):
    settings.NODE_RESERVED_PORTS = "22/tcp:the bastion's SSH"
    assert reserved_ports()[(22, "tcp")].what == "the bastion's SSH"
    assert reserved_ports()[(8500, "tcp")].what == "the cluster's Consul HTTP API"


@given(
    st.integers(1, 65535),
    st.sampled_from(["tcp", "udp"]),
    st.text(st.characters(blacklist_characters=",", blacklist_categories=("Cs", "Cc")), min_size=1).filter(str.strip),
)
def test_any_single_entry_round_trips(port, protocol, what):
    assert parse_reserved(f"{port}/{protocol}:{what}") == (ReservedPort(port, protocol, what.strip()),)


@given(st.text())
def test_any_text_is_read_or_refused_with_the_sentence(text):
    try:
        reserved = parse_reserved(text)
    except ImproperlyConfigured as error:
        assert "NODE_RESERVED_PORTS" in str(error)
    else:
        assert all(1 <= r.port <= 65535 and r.protocol in ("tcp", "udp") and r.what for r in reserved)


# --- ports other containers hold ---------------------------------------------------------------------------------


@pytest.fixture
def shared(team, other_team):
    """`other_team` is granted `team`'s cluster: two teams on one swarm."""
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=other_team.tenant)
    return team.cluster


@pytest.mark.django_db
def test_the_teams_own_container_is_named(team):
    holder(team, "web")
    error = refusal(lambda: run(team, "web2", ports=["8080:80"], node=team.node("node1")))
    assert error.code == "port_in_use" and error.http_status == 409
    assert error.message == (
        "Host port 8080/tcp on node1 is already published by your container web; pick another host port, such as 8081."
    )
    assert not Container.objects.filter(name="web2").exists()


@pytest.mark.django_db
def test_another_teams_container_is_never_named(team, other_team, shared):
    holder(team, "payments-api", tenant=other_team.tenant)
    error = refusal(lambda: run(team, ports=["8080:80"], node=team.node("node1")))
    assert error.message == (
        "Host port 8080/tcp on node1 is already published by another team's container; "
        "pick another host port, such as 8081."
    )
    assert "payments-api" not in error.message


@pytest.mark.django_db
def test_what_docker_gave_a_publish_all_counts_and_protocols_differ(team):
    holder(
        team,
        "all",
        ports=[],
        publish_all=True,
        published_ports=[{"port": "53/udp", "host_ip": "0.0.0.0", "host_port": "32768"}],
    )
    node1 = team.node("node1")
    error = refusal(lambda: run(team, ports=["32768:53/udp"], node=node1))
    assert error.message.startswith("Host port 32768/udp on node1 is already published by your container all;")
    assert run(team, ports=["32768:53"], node=node1).container.node == node1  # tcp is free


@pytest.mark.django_db
def test_a_system_container_is_named_and_a_row_without_a_host_port_holds_nothing(team):
    system = holder(team, "op-consul-node1", is_system=True)
    Container.objects.filter(pk=system.pk).update(tenant=None)
    holder(team, "odd", ports=[], published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": ""}])
    error = refusal(lambda: run(team, ports=["8080:80"], node=team.node("node1")))
    assert "already published by the system container op-consul-node1;" in error.message


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Container.Status.EXITED, Container.Status.FAILED, Container.Status.REMOVED])
def test_a_container_that_let_go_of_its_port_holds_nothing(team, status):
    holder(team, "old", status=status)
    node1 = team.node("node1")
    assert run(team, ports=["8080:80"], node=node1).container.node == node1


@pytest.mark.django_db
def test_the_same_port_on_another_node_is_free(team):
    holder(team, "web", node="node2")
    node1 = team.node("node1")
    assert run(team, "web2", ports=["8080:80"], node=node1).container.node == node1


@pytest.mark.django_db
def test_spread_picks_a_ready_node_where_the_port_is_free(team, other_team, shared):
    holder(team, "theirs", tenant=other_team.tenant)  # node1: one running container, holding 8080
    for i in range(2):
        holder(team, f"busy{i}", node="node2", ports=[])  # node2: busier, so spread alone picks node1
    assert run(team, "plain").container.node.name == "node1"
    assert run(team, "web", ports=["8080:80"]).container.node.name == "node2"


@pytest.mark.django_db
def test_spread_refuses_only_when_no_ready_node_has_the_port_free(team, other_team, shared):
    holder(team, "theirs", tenant=other_team.tenant)
    holder(team, "mine", node="node2", ports=[{"host": 8081, "container": 80, "protocol": "tcp"}])
    Node.objects.create(
        cluster=team.cluster, name="node3", docker_endpoint="tcp://192.0.2.1:2375", address="192.0.2.1",
        state=Node.State.DOWN,
    )  # fmt: skip
    assert run(team, "web", ports=["8081:80"]).container.node.name == "node1"
    holder(team, "mine2", node="node2")
    error = refusal(lambda: run(team, "web2", ports=["8080:80"]))
    assert error.code == "port_in_use"
    assert error.message == (
        f"Host port 8080/tcp is already published on every ready node of {team.cluster.name}; "
        "pick another host port, such as 8082."
    )


NETSTAT = """Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State
tcp        0      0 192.168.250.12:8301     0.0.0.0:*               LISTEN
tcp        0      0 :::8500                 :::*                    LISTEN
tcp6       0      0 :::9100                 :::*                    LISTEN
udp        0      0 0.0.0.0:4789            0.0.0.0:*
"""


def test_the_nodes_own_listeners_are_read_from_netstat():
    assert parse_listening(NETSTAT) == [(4789, "udp"), (8301, "tcp"), (8500, "tcp"), (9100, "tcp")]


@pytest.mark.django_db
def test_a_port_a_program_of_the_node_listens_on_is_refused_and_spread_avoids_that_node(team):
    Node.objects.filter(pk=team.node("node1").pk).update(listening_ports=[[9100, "tcp"]])
    error = refusal(lambda: run(team, ports=["9100:80"], node=team.node("node1")))
    assert error.code == "port_in_use" and "in use by a program the node itself runs" in error.message
    assert run(team, ports=["9100:80"]).container.node.name == "node2"  # spread takes the node where it is free
