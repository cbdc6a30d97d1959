"""Docker's raw errors become sentences that say what to do (the adapter alone, with SDK exceptions)."""

import docker.errors
import pytest
import requests

from networks.engine import ClusterUnavailable, StateStoreUnavailable
from networks.engine.docker import REFUSALS, translate


class FakeResponse:
    """The smallest stand-in for the HTTP response an APIError wraps."""

    def __init__(self, status_code):
        self.status_code = status_code
        self.reason = "error"
        self.url = "http://node/v1.41/networks/create"


def api_error(explanation, status=500):
    return docker.errors.APIError("server error", response=FakeResponse(status), explanation=explanation)


# Messages as the real engine (Debian's docker.io 20.10 on the local swarm) words them, one or more per
# row of the translation table.
RECORDED = {
    "pool_overlaps": ["Pool overlaps with other one on this address space"],
    "name_exists": [
        "network with name web already exists",
        'Conflict. The container name "/web" is already in use by container "abc". You have to remove (or rename) '
        "that container to be able to reuse that name.",
    ],
    "active_endpoints": ["error while removing network: network web id abc has active endpoints"],
    "registry_login": [
        'Head "https://192.168.250.1:5001/v2/team/tools/manifests/latest": no basic auth credentials',
    ],
    "image_unavailable": [
        "pull access denied for mysql, repository does not exist or may require 'docker login'",
        "manifest for overlay-portal/tools:nope not found: manifest unknown",
    ],
    "address_in_use": [
        "failed to allocate network IP for task: could not allocate IP from IPAM: Address already in use",
        "no available IPv4 addresses on this network's address pools: web (abc)",
    ],
    "port_in_use": [
        "driver failed programming external connectivity on endpoint web (abc): Bind for 0.0.0.0:80 failed: "
        "port is already allocated",
        "Error starting userland proxy: listen tcp4 0.0.0.0:8500: bind: address already in use",
    ],
    "state_store_unavailable": ["error getting pools config from store: could not get pools config from store"],
}


@pytest.mark.parametrize(
    ("row", "raw"), [(row, raw) for row in REFUSALS for raw in RECORDED.get(row.code, [])], ids=lambda v: str(v)[:40]
)
def test_each_row_turns_its_recorded_messages_into_its_sentence(row, raw):
    error = translate(api_error(raw))
    assert error.code == row.code
    assert error.raw == raw
    if row.sentence:
        assert str(error) == row.sentence


def test_every_row_has_a_message_recorded_from_the_engine():
    assert {row.code for row in REFUSALS} == set(RECORDED)


def test_a_state_store_failure_waits_and_retries_like_any_cluster_outage():
    error = translate(api_error(RECORDED["state_store_unavailable"][0]))
    assert isinstance(error, StateStoreUnavailable) and isinstance(error, ClusterUnavailable)
    assert "keeps retrying" in str(error) and "rebuild" not in str(error)


def test_anything_else_docker_refuses_is_told_as_docker_said_it():
    error = translate(api_error("invalid reference format: repository name must be lowercase"))
    assert error.code == "engine_error"
    assert str(error) == "Docker refused the request: invalid reference format: repository name must be lowercase"


def test_unreachable_engine_is_transient():
    error = translate(requests.exceptions.ConnectionError("connection refused"))
    assert isinstance(error, ClusterUnavailable)
    assert "keeps retrying" in str(error)


def test_missing_image_and_missing_object():
    assert translate(docker.errors.ImageNotFound("no such image")).code == "image_unavailable"
    assert translate(docker.errors.NotFound("no such network")).code == "not_found"


def test_state_store_outage_is_a_cluster_outage_worth_retrying():
    error = StateStoreUnavailable(raw="connection refused")
    assert isinstance(error, ClusterUnavailable)
    assert str(error).startswith("The cluster's state store (Consul) does not answer; the portal keeps retrying.")
