"""networks/engine/docker_plain.py: a network's create and inspect sent over a kept-alive connection of the
thread's own reach the engine as the docker SDK's do and are judged as the SDK judges them.

On the real local cluster, over its bundle's mutual TLS: a network made plainly is the one the SDK makes,
and the engine's refusals (a name taken, a subnet that overlaps, a network that is not there) raise the
SDK's own exceptions, told as the same sentences. Without a cluster: the request body is the SDK's, a
connection the engine ended while idle is opened anew (a small HTTP server on 127.0.0.1 in the engine's
place), and an engine that does not answer is a cluster outage."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest
import requests
import requests.adapters

from networks import labels as docker_labels
from networks.bundles import bundle_read
from networks.engine import ClusterUnavailable, EngineError, docker_plain
from networks.engine import docker as docker_engine
from networks.engine.endpoints import DockerEndpoint
from networks.engine.inspect import MTU_OPTION
from networks.engine.refusals import translate, translated


class Captured(requests.adapters.BaseAdapter):
    """In the SDK's session's place: keeps what it was asked to send, answers 201 with an id."""

    def __init__(self):
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        answer = requests.Response()
        answer.status_code, answer._content, answer.url = 201, b'{"Id": "abc", "Warning": ""}', request.url
        return answer

    def close(self):
        pass


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"internal": True, "attachable": False, "options": {"encrypted": ""}},
        {"options": {MTU_OPTION: "1400"}, "aux_addresses": {"db": "10.9.0.9"}, "ip_range": "10.9.0.128/25"},
    ],
)
def test_the_create_body_is_the_sdks(settings):
    sdk = docker.APIClient(base_url="tcp://127.0.0.1:9", version="1.41")
    captured = Captured()
    sdk.mount("http://", captured)
    pool = docker.types.IPAMPool(
        subnet="10.9.0.0/24",
        gateway="10.9.0.1",
        iprange=settings.get("ip_range"),
        aux_addresses=settings.get("aux_addresses"),
    )
    ipam = docker.types.IPAMConfig(pool_configs=[pool])
    labels = {docker_labels.MANAGED: "test", "team": "web"}
    internal, attachable = settings.get("internal", False), settings.get("attachable", True)
    options = settings.get("options", {})

    sdk.create_network(
        "web",
        driver="overlay",
        attachable=attachable,
        internal=internal,
        ipam=ipam,
        labels=labels,
        options=options or None,
        check_duplicate=True,
    )
    ours = docker_engine.network_create_body(
        "web", ipam=ipam, labels=labels, options=options, internal=internal, attachable=attachable
    )

    [request] = captured.sent
    assert (request.method, request.path_url) == ("POST", "/v1.41/networks/create")
    assert json.dumps(ours).encode() == request.body.encode()


class Engine(http.server.BaseHTTPRequestHandler):
    """An engine that answers every inspect with a built network, and may end each connection after it."""

    protocol_version = "HTTP/1.1"
    seen: list = []
    close_after_answer = False

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("User-Agent")))
        body = json.dumps({"Id": self.path.rsplit("/", 1)[1], "Driver": "overlay"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.close_after_answer:  # an engine ending an idle kept-alive connection
            self.close_connection = True

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    connections = 0
    closed = threading.Event()  # set each time the engine has ended a connection

    def process_request(self, request, client_address):
        Server.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.closed.set()


@pytest.fixture
def engine():
    Engine.seen, Engine.close_after_answer, Server.connections = [], False, 0
    server = Server(("127.0.0.1", 0), Engine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield docker_plain.Target("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def test_one_connection_carries_the_calls_one_after_another(engine):
    for number in range(3):
        assert docker_plain.call(engine, "GET", f"/v1.41/networks/n{number}", timeout=5)["Id"] == f"n{number}"
    assert Server.connections == 1
    assert Engine.seen == [(f"/v1.41/networks/n{number}", docker.constants.DEFAULT_USER_AGENT) for number in range(3)]


def test_a_connection_the_engine_ended_is_opened_anew_and_nothing_is_sent_twice(engine):
    Engine.close_after_answer = True
    for number in range(3):
        Server.closed.clear()
        assert docker_plain.call(engine, "GET", f"/v1.41/networks/n{number}", timeout=5)["Id"] == f"n{number}"
        assert Server.closed.wait(timeout=10)  # ended while the connection sits idle, without a word
    assert [path for path, _ in Engine.seen] == [f"/v1.41/networks/n{number}" for number in range(3)]
    assert Server.connections == 3


def test_an_engine_that_does_not_answer_is_a_cluster_outage():
    for target in (docker_plain.Target("127.0.0.1", 9), docker_plain.Target(socket_path="/nonexistent/docker.sock")):
        with pytest.raises(ClusterUnavailable), translated():
            docker_plain.call(target, "GET", "/v1.41/networks/abc", timeout=2)


def test_addresses_left_to_the_sdk():
    assert docker_plain.target_of(DockerEndpoint("ssh://node1")) is None
    assert docker_plain.target_of(DockerEndpoint("tcp://192.0.2.1:2375")) == docker_plain.Target("192.0.2.1", 2375)
    assert docker_plain.target_of(DockerEndpoint("unix:///run/docker.sock")).socket_path == "/run/docker.sock"


@pytest.fixture
def manager(cluster_description):
    """The local swarm's manager over the bundle's mutual TLS, as a registered cluster reaches it."""
    bundle = bundle_read(Path(cluster_description["bundle"]).read_bytes())
    endpoint = DockerEndpoint(bundle.docker_host, bundle.tls)
    assert docker_plain.target_of(endpoint).tls is not None
    made: list[str] = []
    yield endpoint, made
    for network_id in made:
        docker_engine.remove_network(endpoint, network_id)


def plain_and_sdk(endpoint: DockerEndpoint, call) -> tuple:
    """What `call(endpoint)` raises plainly, then through the SDK alone (an address it does not take plainly)."""
    raised = []
    for plainly in (True, False):
        target_of = docker_plain.target_of
        if not plainly:
            docker_plain.target_of = lambda endpoint: None  # type: ignore[assignment]
        try:
            call(endpoint)
        except docker.errors.APIError as error:
            raised.append(error)
        finally:
            docker_plain.target_of = target_of  # type: ignore[assignment]
    return tuple(raised)


def sdk_error(call):
    """The SDK's exception that `call` raised inside `translated`, as `translate` received it."""

    def raising(endpoint):
        try:
            call(endpoint)
        except EngineError as error:
            raise error.__cause__ from None

    return raising


@pytest.mark.cluster
def test_a_network_made_plainly_is_the_one_the_sdk_makes(manager):
    endpoint, made = manager
    labels = {docker_labels.MANAGED: "test", "team": "web"}
    name = f"plain-{uuid.uuid4().hex[:8]}"
    attrs = docker_engine.create_overlay_network(
        endpoint, name, subnet="10.250.9.0/24", gateway="10.250.9.1", labels=labels, mtu=1400, internal=True
    )
    made.append(attrs["Id"])

    assert attrs == docker_engine.client(endpoint).api.inspect_network(attrs["Id"])
    assert (attrs["Name"], attrs["Driver"], attrs["Internal"], attrs["Attachable"]) == (name, "overlay", True, True)
    assert attrs["IPAM"]["Config"] == [{"Subnet": "10.250.9.0/24", "Gateway": "10.250.9.1"}]
    assert attrs["Options"][MTU_OPTION] == "1400" and attrs["Labels"] == labels


@pytest.mark.cluster
def test_the_engines_refusals_are_the_sdks_exceptions_and_sentences(manager):
    """A swarm takes a second network of a name it has, and one whose subnet overlaps another (left broken:
    services/builds.py finds it so), but refuses a name its own networks hold, a gateway outside the subnet,
    and knows no network it has not made."""
    endpoint, made = manager
    labels = {docker_labels.MANAGED: "test"}

    def create(endpoint, name="ingress", subnet="10.250.11.0/24", gateway=""):
        made.append(docker_engine.overlay_network_create(endpoint, name, subnet=subnet, gateway=gateway, labels=labels))

    def bad_gateway(endpoint):
        create(endpoint, name=f"plain-{uuid.uuid4().hex[:8]}", gateway="10.99.0.1")

    def missing(endpoint):
        docker_engine.network_allocated(endpoint, "nosuchnetwork0000000000000")

    for call, code in ((create, "name_exists"), (bad_gateway, "engine_error"), (missing, "not_found")):
        plain, sdk = plain_and_sdk(endpoint, sdk_error(call))
        assert type(plain) is type(sdk), (plain, sdk)
        assert (plain.status_code, plain.explanation) == (sdk.status_code, sdk.explanation)
        assert str(plain) == str(sdk)
        assert (translate(plain).code, str(translate(plain))) == (code, str(translate(sdk)))
    assert made == []
