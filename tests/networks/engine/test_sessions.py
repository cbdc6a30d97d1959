"""networks/engine/sessions.py: a lean session prepares every request as requests itself would."""

from __future__ import annotations

import pytest
import requests

from networks.engine.sessions import lean, prepared


def a_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = "docker-sdk-python/7.2.0"
    return session


REQUESTS = [
    requests.Request("GET", "https://192.0.2.1:2376/v1.41/networks/abc", params={"filters": '{"label": ["a=b"]}'}),
    requests.Request("get", "https://192.0.2.1:2376/v1.41/networks", params=[("greedy", "false")]),
    requests.Request("PUT", "http://192.0.2.1:8500/v1/kv/portal/subnets/x", params={"cas": 0}, data=b"x" * 300),
    requests.Request("PUT", "http://192.0.2.1:8500/v1/txn", data='[{"KV": {"Verb": "set"}}]'),
    requests.Request("POST", "https://192.0.2.1:2376/v1.41/networks/create", json={"Name": "n", "Labels": {"a": "é"}}),
    requests.Request("DELETE", "http://192.0.2.1:8500/v1/kv/p", headers={"X-Consul-Token": "t", "User-Agent": None}),
    requests.Request("GET", "http://user:secret@192.0.2.1:8500/v1/status/leader"),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r.method} {r.url.rsplit('/', 1)[1]}")
def test_the_same_request_as_requests_prepares(request_):
    session = a_session()
    theirs, ours = session.prepare_request(request_), prepared(session, request_)
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert dict(ours.headers) == dict(theirs.headers)
    assert ours.hooks == theirs.hooks


def test_a_session_holding_a_cookie_or_credentials_is_prepared_by_requests():
    session = lean(a_session())
    session.cookies.set("sid", "1", domain="192.0.2.1", path="/")
    assert session.prepare_request(REQUESTS[0]).headers["Cookie"] == "sid=1"
    session = lean(a_session())
    session.auth = ("user", "secret")
    assert session.prepare_request(REQUESTS[0]).headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "asked",
    [
        dict(proxies={}, stream=None, verify=None, cert=None),
        dict(proxies={}, stream=False, verify="/tmp/ca.pem", cert=("/tmp/c.pem", "/tmp/k.pem")),
        dict(proxies=None, stream=True, verify=False, cert="/tmp/both.pem"),
    ],
)
def test_the_same_settings_as_requests_merges(asked):
    session = a_session()
    session.verify, session.cert = "/tmp/session-ca.pem", ("/tmp/sc.pem", "/tmp/sk.pem")
    theirs = session.merge_environment_settings("https://192.0.2.1:2376/v1.41/info", **asked)
    ours = lean(session).merge_environment_settings("https://192.0.2.1:2376/v1.41/info", **asked)
    assert {**ours, "proxies": dict(ours["proxies"])} == {**theirs, "proxies": dict(theirs["proxies"] or {})}
