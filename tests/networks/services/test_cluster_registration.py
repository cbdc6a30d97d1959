"""Registering a cluster from its credentials bundle, against the real local cluster over mutual TLS.

Every sentence a connection can end in is met for real: the bad certificates are made here with
openssl (signed by the local cluster's own CA where the test needs the engine to see them), the
wrong address is a real port, the host name mismatch is a real TCP relay to the real engine.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from django.test import override_settings

from networks.bundles import Bundle, BundleError, bundle_from_parts, bundle_read
from networks.engine import docker as docker_engine
from networks.engine import nodes as nodes_engine
from networks.engine.endpoints import TlsCredentials
from networks.models import Cluster, Network
from networks.services.clusters.connect import cluster_connect, cluster_connect_ask
from networks.services.clusters.registration import cluster_deregister, cluster_register
from networks.services.clusters.rotation import cluster_credentials_rotate
from networks.services.networks.create import network_create
from networks.services.networks.remove import network_remove
from networks.services.reconcile import cluster_reconcile_now
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.services import tenant_create
from tests.resilience.processes import TcpRelay
from tests.support import first_team, openssl_client_certificate, wait_for_operation, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

MANAGER, WORKER = "tcp://192.168.250.11:2376", "tcp://192.168.250.12:2376"


@pytest.fixture
def bundle(cluster_description) -> Bundle:
    return bundle_read(Path(cluster_description["bundle"]).read_bytes())


@pytest.fixture
def pki(cluster_description) -> Path:
    return Path(cluster_description["pki"])


VALID = {"startdate": "20250101000000Z", "enddate": "20350101000000Z"}


def unchecked(bundle: Bundle, **tls) -> Bundle:
    """The bundle with parts replaced, skipping the portal's own checks, to hear what the engine says."""
    parts = {"ca_pem": bundle.tls.ca_pem, "cert_pem": bundle.tls.cert_pem, "key_pem": bundle.tls.key_pem, **tls}
    return Bundle(docker_host=bundle.docker_host, tls=TlsCredentials(**parts))


def refusal(bundle: Bundle) -> ServiceError:
    with pytest.raises(ServiceError) as refused:
        cluster_connect(bundle)
    return refused.value


def test_a_bundle_reads_the_swarm_its_nodes_and_consul_from_the_cluster(bundle, cluster_description):
    found = cluster_connect(bundle)
    info = docker_engine.client(cluster_description["nodes"][0]["docker_socket"]).info()
    assert found.swarm_id == info["Swarm"]["Cluster"]["ID"]
    assert [(n["name"], n["role"], n["docker_endpoint"]) for n in found.nodes] == [
        ("node1", "manager", MANAGER),
        ("node2", "worker", WORKER),
    ]
    assert found.consul_address == "http://192.168.250.11:8500"
    assert found.docker_host == MANAGER


def test_plain_tcp_is_not_answered(bundle):
    """No plain port is left open: 2375 refuses, and 2376 without TLS is told to use the bundle."""
    with socket.socket() as probe:
        probe.settimeout(3)
        assert probe.connect_ex(("192.168.250.11", 2375)) != 0
    with pytest.raises(docker_engine.EngineError) as refused:
        nodes_engine.engine_facts(MANAGER)
    assert refused.value.code == "tls_required"


def test_a_bundle_with_another_ca_is_told_the_cluster_is_not_signed_by_it(bundle, tmp_path):
    other = openssl_client_certificate(tmp_path, **VALID)  # and its own CA
    error = refusal(unchecked(bundle, ca_pem=other["ca_pem"]))
    assert error.code == "tls_wrong_ca"
    assert "not signed by the bundle's CA (ca.pem)" in error.message


def test_a_client_certificate_the_cluster_did_not_sign_is_refused_by_the_engine(bundle, tmp_path):
    other = openssl_client_certificate(tmp_path, **VALID)
    error = refusal(unchecked(bundle, cert_pem=other["cert_pem"], key_pem=other["key_pem"]))
    assert error.code == "tls_client_refused"
    assert "refused the bundle's client certificate (cert.pem)" in error.message


def test_an_expired_client_certificate_is_named_with_its_date_and_the_engine_refuses_it_too(bundle, pki, tmp_path):
    made = openssl_client_certificate(tmp_path, startdate="20200101000000Z", enddate="20200201000000Z", ca=pki)
    cert, key = made["cert_pem"], made["key_pem"]
    with pytest.raises(BundleError) as refused:
        bundle_from_parts(docker_host=MANAGER, ca_pem=bundle.tls.ca_pem, cert_pem=cert, key_pem=key)
    assert "expired on 2020-02-01 00:00 UTC" in refused.value.message
    assert refused.value.field == "cert_pem"
    assert refusal(unchecked(bundle, cert_pem=cert, key_pem=key)).code == "tls_client_refused"


def test_a_client_certificate_not_yet_valid_is_named_with_its_date(bundle, pki, tmp_path):
    made = openssl_client_certificate(tmp_path, startdate="20990101000000Z", enddate="20990201000000Z", ca=pki)
    cert, key = made["cert_pem"], made["key_pem"]
    with pytest.raises(BundleError) as refused:
        bundle_from_parts(docker_host=MANAGER, ca_pem=bundle.tls.ca_pem, cert_pem=cert, key_pem=key)
    assert "not valid until 2099-01-01 00:00 UTC" in refused.value.message
    assert refusal(unchecked(bundle, cert_pem=cert, key_pem=key)).code == "tls_client_refused"


@pytest.fixture
def relay_to_manager():
    """A TCP relay on 127.0.0.1 to the manager's TLS port: the real engine, at an address its certificate
    does not name."""
    relay = TcpRelay(("192.168.250.11", 2376))
    relay.open()
    yield f"tcp://127.0.0.1:{relay.port}"
    relay.close()


def test_an_address_the_engines_certificate_does_not_name_is_a_host_name_mismatch(bundle, relay_to_manager):
    error = refusal(Bundle(docker_host=relay_to_manager, tls=bundle.tls))
    assert error.code == "tls_host_mismatch"
    assert "not issued for the address in DOCKER_HOST" in error.message


def test_a_port_nothing_listens_on_is_connection_refused(bundle):
    error = refusal(Bundle(docker_host="tcp://192.168.250.11:2399", tls=bundle.tls))
    assert error.code == "cluster_unreachable"
    assert error.message.startswith("Nothing answers at tcp://192.168.250.11:2399 (connection refused).")


def test_a_worker_node_is_not_a_manager(bundle):
    error = refusal(Bundle(docker_host=WORKER, tls=bundle.tls))
    assert error.code == "not_a_manager"
    assert "is a swarm worker, not a manager" in error.message


def test_an_engine_older_than_the_portal_needs_is_refused(bundle):
    with override_settings(DOCKER_MIN_API_VERSION="1.99"):
        error = refusal(bundle)
    assert error.code == "docker_too_old"
    assert "speaks Docker API 1.41; the portal needs 1.99 or newer" in error.message


def test_a_consul_that_does_not_answer_is_named(bundle, cluster_description):
    agent = docker_engine.client(cluster_description["nodes"][0]["docker_socket"]).containers.get("op-consul-node1")
    agent.stop(timeout=5)
    try:
        error = refusal(bundle)
    finally:
        agent.start()
        wait_until(lambda: _has_leader(bundle), timeout=60)
    assert error.code == "consul_unreachable"
    assert "its Consul does not at http://192.168.250.11:8500" in error.message
    assert "op-consul-node1" not in error.message  # it is stopped: `docker ps` does not list it


def _has_leader(bundle) -> bool:
    try:
        cluster_connect(bundle)
    except ServiceError:
        return False
    return True


@pytest.mark.worker
def test_the_web_asks_a_worker_to_connect_and_hears_each_sentence(celery_worker_process, bundle, tmp_path):
    found = cluster_connect_ask(bundle, timeout=30)
    assert [n["name"] for n in found.nodes] == ["node1", "node2"]
    other = openssl_client_certificate(tmp_path, **VALID)
    with pytest.raises(ServiceError) as refused:
        cluster_connect_ask(unchecked(bundle, ca_pem=other["ca_pem"]), timeout=30)
    assert refused.value.code == "tls_wrong_ca"


@pytest.mark.worker
def test_rotated_credentials_are_used_from_the_next_call_and_the_old_key_is_gone(
    celery_worker_process, bundle, pki, tmp_path
):
    tenant = tenant_create(name="Rotation")
    cluster = cluster_register(actor=Actor.system("tests"), tenant=tenant, bundle=bundle, name="rotation")
    cluster_reconcile_now(cluster=cluster)  # the ingress network's block is taken
    old_key_sealed = cluster.tls_key_sealed
    made = openssl_client_certificate(tmp_path, startdate="20250101000000Z", enddate="20350101000000Z", ca=pki)
    cert, key = made["cert_pem"], made["key_pem"]
    new = bundle_from_parts(docker_host=MANAGER, ca_pem=bundle.tls.ca_pem, cert_pem=cert, key_pem=key)
    cluster_credentials_rotate(cluster=cluster, found=cluster_connect(new), bundle=new)

    cluster = Cluster.objects.get(pk=cluster.pk)
    assert cluster.tls_cert == new.tls.cert_pem and cluster.tls_key_sealed != old_key_sealed
    assert cluster.docker.tls.key_pem == new.tls.key_pem
    assert all(node.docker.tls.cert_pem == new.tls.cert_pem for node in cluster.nodes.all())
    # The worker's next operation reaches the swarm with the new certificate.
    operation = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=tenant, cluster=cluster, name="after-rotation")
    )
    assert operation.status == "succeeded", operation.error
    wait_for_operation(network_remove(actor=Actor.system("tests"), tenant=tenant, network=operation.network))


def test_a_bundle_of_another_swarm_does_not_rotate_a_cluster(bundle, tenant_cluster):
    other = cluster_connect(bundle)
    Cluster.objects.filter(pk=tenant_cluster.pk).update(swarm_id="some-other-swarm")
    tenant_cluster.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        cluster_credentials_rotate(cluster=tenant_cluster, found=other, bundle=bundle)
    assert refused.value.code == "other_swarm"
    Cluster.objects.filter(pk=tenant_cluster.pk).update(swarm_id=other.swarm_id)


@pytest.mark.worker
def test_deregistering_is_refused_while_a_network_lives_then_forgets_the_cluster(celery_worker_process, tenant_cluster):
    team = first_team(tenant_cluster)
    operation = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=team, cluster=tenant_cluster, name="still-here")
    )
    assert operation.status == "succeeded", operation.error
    with pytest.raises(ServiceError) as refused:
        cluster_deregister(actor=Actor.system("tests"), cluster=tenant_cluster)
    assert refused.value.code == "cluster_in_use"
    assert 'networks "still-here"' in refused.value.message
    wait_for_operation(network_remove(actor=Actor.system("tests"), tenant=team, network=operation.network))
    cluster_deregister(actor=Actor.system("tests"), cluster=tenant_cluster)
    assert not Cluster.objects.filter(pk=tenant_cluster.pk).exists()
    assert not Network.objects.filter(name="still-here").exists()
