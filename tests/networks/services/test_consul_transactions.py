"""Many Consul keys written in transactions of at most 64 operations (networks/engine/consul.py's kv_put_all)."""

import base64

import pytest
from consul.exceptions import ClientError

from networks.engine import consul as consul_engine
from networks.engine.errors import EngineError


class FakeTxn:
    def __init__(self, refuse: str | None = None):
        self.payloads, self.refuse = [], refuse

    def put(self, payload):
        if self.refuse:
            raise ClientError(self.refuse)
        self.payloads.append(payload)
        return {"Results": []}


@pytest.fixture
def txn(monkeypatch):
    fake = FakeTxn()
    monkeypatch.setattr(consul_engine, "client", lambda address: type("C", (), {"txn": fake})())
    return fake


def test_keys_are_written_in_transactions_of_at_most_64(txn):
    items = [(f"p/networks/{i}", f'{{"n": {i}}}') for i in range(130)]
    assert consul_engine.kv_put_all("http://consul:8500", items) is True
    assert [len(payload) for payload in txn.payloads] == [64, 64, 2]
    written = [op["KV"] for payload in txn.payloads for op in payload]
    assert [(kv["Key"], base64.b64decode(kv["Value"]).decode()) for kv in written] == items
    assert {kv["Verb"] for kv in written} == {"set"}


def test_create_only_is_check_and_set_0_and_false_when_a_key_exists(txn):
    assert consul_engine.kv_put_all("http://consul:8500", [("p/subnets/10.0.0.0_24", "{}")], create=True) is True
    assert txn.payloads[0][0]["KV"]["Verb"] == "cas" and txn.payloads[0][0]["KV"]["Index"] == 0
    txn.refuse = '409 {"Errors": [{"OpIndex": 0, "What": "failed to set key"}]}'
    assert consul_engine.kv_put_all("http://consul:8500", [("p/subnets/10.0.0.0_24", "{}")], create=True) is False
    with pytest.raises(EngineError):  # a plain write that Consul refuses is an error, not "taken"
        consul_engine.kv_put_all("http://consul:8500", [("p/networks/1", "{}")])
