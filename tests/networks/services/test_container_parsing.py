"""Pure parsing helpers of the container services: ports, environment, docker port rows, nslookup output."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from networks.services.containers.specs import PublishedPort, parse_environment, parse_ports
from networks.services.containers.state import docker_state_of, published_ports_of
from networks.services.diagnostics import resolved_addresses
from plumbing.errors import ServiceError


def test_port_specs_like_docker_run_publish():
    assert parse_ports(["8080:80", "53:53/udp", "443"]) == [
        PublishedPort(8080, 80, "tcp"),
        PublishedPort(53, 53, "udp"),
        PublishedPort(None, 443, "tcp"),
    ]
    assert parse_ports(["", "  "]) == []


@pytest.mark.parametrize("spec", ["80:", ":80", "a:80", "0:80", "80:65536", "80/sctp", "1:2:3"])
def test_bad_port_specs(spec):
    with pytest.raises(ServiceError) as excinfo:
        parse_ports([spec])
    assert excinfo.value.field == "ports"


def test_a_container_port_is_published_once():
    with pytest.raises(ServiceError, match="published twice"):
        parse_ports(["8080:80", "9090:80"])


@given(st.integers(1, 65535), st.integers(1, 65535), st.sampled_from(["tcp", "udp"]))
def test_any_valid_mapping_round_trips(host, container, protocol):
    assert parse_ports([f"{host}:{container}/{protocol}"]) == [PublishedPort(host, container, protocol)]


def test_environment_names_and_secrets():
    env = parse_environment([{"name": "A", "value": "1"}, {"name": "PW", "value": "x", "secret": True}, {"name": ""}])
    assert env == [{"name": "A", "value": "1", "secret": False}, {"name": "PW", "value": "x", "secret": True}]
    with pytest.raises(ServiceError):
        parse_environment([{"name": "1BAD"}])
    with pytest.raises(ServiceError):
        parse_environment([{"name": "A"}, {"name": "A"}])


def test_published_ports_as_docker_port_lists_them():
    attrs = {
        "NetworkSettings": {
            "Ports": {
                "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}, {"HostIp": "::", "HostPort": "80"}],
                "3306/tcp": None,
            }
        }
    }
    assert published_ports_of(attrs) == [{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "80"}]


def test_dockers_state_as_a_row_keeps_it():
    from datetime import UTC, datetime

    never_stopped = {
        "Running": True,
        "StartedAt": "2026-12-06T12:56:24.123456789Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
    }
    assert docker_state_of({"State": {**never_stopped, "ExitCode": 0}}) == {
        "status": "running",
        "started_at": datetime(2026, 12, 6, 12, 56, 24, 123456, tzinfo=UTC),  # nanoseconds cut
        "finished_at": None,  # Docker's zero time: it never stopped
        "exit_code": None,
    }
    killed = {
        "Running": False,
        "StartedAt": "2026-12-06T12:00:00Z",
        "FinishedAt": "2026-12-06T12:05:00Z",
        "ExitCode": 137,
    }
    assert docker_state_of({"State": killed}) == {
        "status": "exited",
        "started_at": datetime(2026, 12, 6, 12, tzinfo=UTC),
        "finished_at": datetime(2026, 12, 6, 12, 5, tzinfo=UTC),
        "exit_code": 137,
    }
    assert docker_state_of({"State": {"Running": True, "StartedAt": "yesterday"}})["started_at"] is None
    assert docker_state_of({})["status"] == "exited"


def test_nslookup_answer_not_the_server():
    output = (
        "Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\n"
        "Name:\tmysql\nAddress: 10.0.1.3\n\nNon-authoritative answer:\n"
    )
    assert resolved_addresses(output) == ["10.0.1.3"]
    assert resolved_addresses("Server: 127.0.0.11\nAddress: 127.0.0.11:53\n** server can't find x: NXDOMAIN\n") == []
