"""Consul's index as the reconcile's Consul pass reads it (`kv_index`): one lookup of a key nobody writes, on
the real local cluster's Consul. It moves on every write and delete, under the cluster's prefix or not, and a
read does not move it."""

import uuid

import pytest

from networks.engine import consul as consul_engine

pytestmark = pytest.mark.cluster


def test_the_index_moves_on_every_write_and_delete_and_not_on_a_read(tenant_cluster):
    address, prefix = tenant_cluster.consul, tenant_cluster.consul_prefix
    key, elsewhere = f"{prefix}/probe/{uuid.uuid4().hex}", f"overlay-portal-tests/{uuid.uuid4().hex}"
    before = consul_engine.kv_index(address, prefix)
    assert before > 0
    consul_engine.kv_put(address, key, "one")
    written = consul_engine.kv_index(address, prefix)
    assert written > before
    consul_engine.kv_get(address, key)
    assert consul_engine.kv_index(address, prefix) == written, "a read moves nothing"
    consul_engine.kv_delete(address, key)
    deleted = consul_engine.kv_index(address, prefix)
    assert deleted > written
    consul_engine.kv_put(address, elsewhere, "two")  # another prefix: a pass too many, never one too few
    try:
        assert consul_engine.kv_index(address, prefix) > deleted
    finally:
        consul_engine.kv_delete(address, elsewhere)
