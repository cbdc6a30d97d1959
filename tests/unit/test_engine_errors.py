"""Docker's raw errors become sentences that say what to do (the adapter alone, with SDK exceptions)."""

import docker.errors
import pytest
import requests

from networks.engine import ClusterUnavailable, StateStoreUnavailable
from networks.engine.docker import translate


class FakeResponse:
    """The smallest stand-in for the HTTP response an APIError wraps."""

    def __init__(self, status_code):
        self.status_code = status_code
        self.reason = "error"
        self.url = "http://node/v1.41/networks/create"


def api_error(explanation, status=500):
    return docker.errors.APIError("server error", response=FakeResponse(status), explanation=explanation)


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        (
            "Pool overlaps with other one on this address space",
            "pool_overlaps",
            "overlaps a network the cluster already has",
        ),
        ("network with name web already exists", "name_exists", "Pick another name"),
        (
            "error while removing network: network web id abc has active endpoints",
            "active_endpoints",
            "Disconnect them first",
        ),
        (
            "error getting pools config from store: could not get pools config from store",
            "state_store_unavailable",
            "rebuild the cluster",
        ),
        (
            "pull access denied for mysql, repository does not exist",
            "image_unavailable",
            "no registry could be reached",
        ),
        (
            "failed to allocate network IP for task: could not allocate IP from IPAM: Address already in use",
            "address_in_use",
            "Pick another address",
        ),
        (
            "driver failed programming external connectivity: Bind for 0.0.0.0:80 failed: port is already allocated",
            "port_in_use",
            "Pick another host port",
        ),
    ],
)
def test_docker_errors_become_sentences(raw, code, fragment):
    error = translate(api_error(raw))
    assert error.code == code
    assert fragment in str(error)
    assert error.raw == raw


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
    assert str(error) == "The cluster's state store (Consul) is down: rebuild the cluster, then try again."
