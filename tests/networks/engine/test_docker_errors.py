"""Docker's raw errors become sentences that say what to do (the adapter alone, with SDK exceptions)."""

import docker.errors
import pytest
import requests

from networks.engine import ClusterUnavailable, StateStoreUnavailable
from networks.engine.refusals import REFUSALS, translate


class FakeResponse:
    """The smallest stand-in for the HTTP response an APIError wraps."""

    def __init__(self, status_code):
        self.status_code = status_code
        self.reason = "error"
        self.url = "http://node/v1.41/networks/create"


def api_error(explanation, status=500):
    return docker.errors.APIError("server error", response=FakeResponse(status), explanation=explanation)


# Messages as the real engine (Debian's docker.io 20.10 on the local swarm) words them, one or more per
# row of the translation table, and the sentence each row answers with.
RECORDED = {
    "pool_overlaps": (
        "Docker refused the subnet because it overlaps a network the cluster already has. "
        "Ask the portal to reconcile the cluster, then create the network again.",
        ["Pool overlaps with other one on this address space"],
    ),
    "name_exists": (
        "A network or container with that name already exists on the cluster. Pick another name.",
        [
            "network with name web already exists",
            'Conflict. The container name "/web" is already in use by container "abc". You have to remove (or '
            "rename) that container to be able to reuse that name.",
        ],
    ),
    "active_endpoints": (
        "Containers are still attached to the network. Disconnect them first, or remove with disconnect.",
        ["error while removing network: network web id abc has active endpoints"],
    ),
    "registry_login": (
        "The image's registry asks for a login. Add your team's credentials for that registry "
        "(Registry logins, in the menu), then run it again.",
        ['Head "https://192.168.250.1:5001/v2/team/tools/manifests/latest": no basic auth credentials'],
    ),
    "image_unavailable": (
        "The image is not on that node and its registry could not give it: check the image's name and tag "
        "(the run form lists the images the cluster and its registry have).",
        [
            "pull access denied for mysql, repository does not exist or may require 'docker login'",
            "manifest for overlay-portal/tools:nope not found: manifest unknown",
        ],
    ),
    "address_in_use": (
        "That address is already used on the network (Docker also gives one to each node's load balancer). "
        "Pick another address, or leave it empty to get the next free one.",
        [
            "failed to allocate network IP for task: could not allocate IP from IPAM: Address already in use",
            "no available IPv4 addresses on this network's address pools: web (abc)",
        ],
    ),
    "port_in_use": (
        "That host port is already in use on the node, by a container or by a program the node runs outside "
        "the portal. Pick another host port.",
        [
            "driver failed programming external connectivity on endpoint web (abc): Bind for 0.0.0.0:80 failed: "
            "port is already allocated",
            "Error starting userland proxy: listen tcp4 0.0.0.0:8500: bind: address already in use",
        ],
    ),
    "state_store_unavailable": (
        "The cluster's state store (Consul) does not answer; the portal keeps retrying. If this lasts, check "
        "the cluster's Consul agents (the dashboard shows how many are up).",
        ["error getting pools config from store: could not get pools config from store"],
    ),
}


@pytest.mark.parametrize(
    ("code", "sentence", "raw"),
    [(code, sentence, raw) for code, (sentence, raws) in RECORDED.items() for raw in raws],
    ids=lambda v: str(v)[:40],
)
def test_each_recorded_message_turns_into_its_rows_sentence(code, sentence, raw):
    error = translate(api_error(raw))
    assert error.code == code
    assert error.raw == raw
    assert str(error) == sentence


def test_every_row_of_the_table_has_a_message_recorded_from_the_engine():
    """The table's codes only (its sentences are written out above): a row added without a recorded
    message fails here."""
    assert {row.code for row in REFUSALS} == set(RECORDED)


def test_a_state_store_failure_waits_and_retries_like_any_cluster_outage():
    error = translate(api_error(RECORDED["state_store_unavailable"][1][0]))
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
