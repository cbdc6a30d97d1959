"""networks/engine/consul_put.py: a key written over a plain kept-alive connection reaches the agent as
py-consul's request does and is judged as py-consul judges its answer. The agent here is a small HTTP
server on 127.0.0.1 with a key-value store of its own (check-and-set, a token, a failure on request);
the real agents answer the cluster tests' creates."""

from __future__ import annotations

import http.server
import threading

import pytest

from networks.engine import EngineError, StateStoreUnavailable
from networks.engine import consul as consul_engine
from networks.engine.endpoints import ConsulEndpoint


class Agent(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []
    store: dict = {}
    close_after_answer = False

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append((self.path, body, self.headers.get("X-Consul-Token")))
        key, _, query = self.path.removeprefix("/v1/kv/").partition("?")
        if self.headers.get("X-Consul-Token") == "wrong":
            return self.answer(403, b"Permission denied")
        if key.endswith("fail"):
            return self.answer(500, b"rpc error: no leader")
        if query == "cas=0" and key in self.store:
            return self.answer(200, b"false")
        self.store[key] = body
        self.answer(200, b"true")

    def answer(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.close_after_answer:  # an agent ending an idle kept-alive connection
            self.close_connection = True

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    closed = threading.Event()  # set each time the agent has ended a connection

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.closed.set()


@pytest.fixture
def agent():
    Agent.seen, Agent.store, Agent.close_after_answer = [], {}, False
    server = Server(("127.0.0.1", 0), Agent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def both_ways(endpoint: ConsulEndpoint, key: str, value: str, cas=None):
    """The answer (or the exception's type) and the request the agent saw, through py-consul then plainly."""
    results = []
    for way in ("py-consul", "plain"):
        if cas is None:
            Agent.store.clear()
        try:
            if way == "py-consul":
                with consul_engine.translated():
                    answer = bool(consul_engine.client(endpoint).kv.put(key, value, cas=cas))
            else:
                answer = consul_engine.kv_put(endpoint, key, value, cas=cas)
        except Exception as error:
            answer = type(error)
        results.append((answer, Agent.seen[-1]))
    return results


@pytest.mark.parametrize(
    "key, value, token",
    [
        ("portal/abc/networks/7", '{"name": "web", "subnet": "10.0.0.0/24"}', ""),
        ("portal/abc/subnets/10.0.0.0_24", "reserved by portal abc", "secret-token"),
        ("portal/a b/networks/é", "x" * 5000, ""),
    ],
)
def test_the_same_request_and_answer_as_py_consul(agent, key, value, token):
    endpoint = ConsulEndpoint(agent, token)
    theirs, ours = both_ways(endpoint, key, value)
    assert ours == theirs and ours[0] is True
    assert list(Agent.store.values()) == [value.encode()]


def test_check_and_set_refusals_and_errors_alike(agent):
    endpoint = ConsulEndpoint(agent)
    consul_engine.kv_put(endpoint, "portal/taken", "first", cas=0)
    assert both_ways(endpoint, "portal/taken", "second", cas=0)[1][0] is False
    theirs, ours = both_ways(endpoint, "portal/fail", "x")
    assert ours == theirs and ours[0] is EngineError
    theirs, ours = both_ways(ConsulEndpoint(agent, "wrong"), "portal/k", "x")
    assert ours == theirs and ours[0] is EngineError


def test_a_connection_the_agent_ended_is_opened_anew_and_nothing_is_sent_twice(agent):
    endpoint = ConsulEndpoint(agent)
    Agent.close_after_answer = True
    for number in range(3):
        Server.closed.clear()
        assert consul_engine.kv_put(endpoint, f"portal/n{number}", "v") is True
        assert Server.closed.wait(timeout=10)  # ended while the connection sits idle, without a word
    assert [path for path, _, _ in Agent.seen] == ["/v1/kv/portal/n0", "/v1/kv/portal/n1", "/v1/kv/portal/n2"]


def test_an_agent_that_does_not_answer_is_a_state_store_outage():
    with pytest.raises(StateStoreUnavailable):
        consul_engine.kv_put(ConsulEndpoint("http://127.0.0.1:9"), "portal/k", "v")
