"""Registering the real local cluster from its Carina-style bundle, as staff would: through the API, the
portal's page and the admin; then testing the connection, rotating the credentials and deregistering.

A fresh team each time, and a test database where the swarm is not registered yet (transactional).
The reconcile that registration asks for is waited for, and the swarm's Consul keys it may write are
removed afterwards, as `tenant_cluster` does.
"""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from networks.bundles import bundle_read, certificate_facts
from networks.engine import consul as consul_engine
from networks.models import Cluster, Operation
from portal.actors import Actor
from portal.models import AuditEntry
from portal.services import api_token_create, tenant_create
from tests.apiclient import Api, assert_error
from tests.cluster_inputs import key_body
from tests.factories import make_staff
from tests.support import wait_for_operation

pytestmark = [pytest.mark.cluster, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def local(cluster_description, celery_worker_process):
    """The local cluster's bundle, a fresh team and a staff user; the swarm's Consul keys removed afterwards."""
    zipped = Path(cluster_description["bundle"]).read_bytes()
    suffix = uuid.uuid4().hex[:6]
    context = {
        "zip": zipped,
        "bundle": bundle_read(zipped),
        "tenant": tenant_create(name=f"Team {suffix}"),
        "staff": make_staff(f"staff-{suffix}"),
        "name": f"live-{suffix}",
        "nodes": len(cluster_description["nodes"]),
    }
    yield context
    for operation in Operation.objects.unfinished():
        wait_for_operation(operation)
    consul = f"http://{cluster_description['nodes'][0]['address']}:8500"
    for swarm_id in {entry.details["swarm_id"] for entry in AuditEntry.objects.filter(action="cluster.register")}:
        consul_engine.kv_delete(consul, f"overlay-portal/swarms/{swarm_id}", recurse=True)


def settle(cluster_id: int) -> None:
    """Wait for the reconcile registration asked for, so deregistering does not pull a cluster from under it."""
    for operation in Operation.objects.filter(cluster_id=cluster_id).unfinished():
        assert wait_for_operation(operation).status == Operation.Status.SUCCEEDED


def upload(local) -> SimpleUploadedFile:
    return SimpleUploadedFile("local.zip", local["zip"], content_type="application/zip")


def test_register_test_rotate_and_deregister_through_the_api(local):
    api = Api(api_token_create(actor=Actor.system("tests"), user=local["staff"], name="live")[1])
    response = api.client.post(
        "/api/v1/clusters/",
        {"name": local["name"], "tenant": local["tenant"].slug, "bundle": upload(local)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    facts = certificate_facts(local["bundle"].tls.cert_pem)
    assert body["swarm_id"] and len(body["nodes"]) == local["nodes"]
    assert body["credentials"]["tls"] is True and body["credentials"]["fingerprint"] == facts.fingerprint
    assert body["credentials"]["endpoint"] == local["bundle"].docker_host
    assert not any(line in response.content.decode() for line in key_body(local["bundle"]))
    cluster_id = body["id"]
    assert AuditEntry.objects.get(action="cluster.register").object_id == str(cluster_id)

    answer = api.post(f"clusters/{cluster_id}/test/")
    assert answer.status_code == 200 and answer.json()["ok"] is True, answer.content
    assert answer.json()["message"].startswith(
        f'Connected to "{local["name"]}" over TLS at {local["bundle"].docker_host}'
    )
    assert f"{local['nodes']}/{local['nodes']} nodes ready" in answer.json()["message"]

    settle(cluster_id)
    rotated = api.client.post(
        f"/api/v1/clusters/{cluster_id}/credentials/", {"bundle": upload(local)}, format="multipart"
    )
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["credentials"]["updated"] > body["credentials"]["updated"]

    # the same swarm again, for another team: refused, with how to grant it instead
    other = tenant_create(name=f"Other {uuid.uuid4().hex[:6]}")
    again = api.client.post(
        "/api/v1/clusters/", {"name": "again", "tenant": other.slug, "bundle": upload(local)}, format="multipart"
    )
    assert_error(again, 409, "swarm_registered")

    assert api.delete(f"clusters/{cluster_id}/").status_code == 204
    assert not Cluster.objects.filter(pk=cluster_id).exists()


def test_register_on_the_portal_page_then_test_and_deregister(client, local):
    client.force_login(local["staff"])
    data = {"tenant": local["tenant"].pk, "name": local["name"], "registry": "", "bundle": upload(local)}
    response = client.post("/clusters/register/", data)
    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]
    cluster = Cluster.objects.get(name=local["name"])
    assert response["Location"] == f"/clusters/{cluster.pk}/"
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert f'Cluster "{local["name"]}" registered: swarm {cluster.swarm_id}' in page
    assert certificate_facts(local["bundle"].tls.cert_pem).fingerprint in page
    assert not any(line in page for line in key_body(local["bundle"]))

    part = html.unescape(client.post(f"/clusters/{cluster.pk}/test/", headers={"HX-Request": "true"}).content.decode())
    assert re.search(r'<p class="message success">Connected to "[^"]+" over TLS at tcp://', part), part

    settle(cluster.pk)
    response = client.post(f"/clusters/{cluster.pk}/deregister/", follow=True)
    assert "is deregistered" in html.unescape(response.content.decode())
    assert not Cluster.objects.filter(pk=cluster.pk).exists()


def test_register_in_the_admin_then_rotate_and_test(client, local):
    client.force_login(local["staff"])
    data = {"tenant": local["tenant"].pk, "name": local["name"], "registry": "", "bundle": upload(local)}
    response = client.post("/admin/networks/cluster/add/", data)
    assert response.status_code == 302, html.unescape(response.content.decode())[:3000]
    cluster = Cluster.objects.get(name=local["name"])
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "registered: swarm" in page and certificate_facts(local["bundle"].tls.cert_pem).subject in page
    assert not any(line in page for line in key_body(local["bundle"]))

    settle(cluster.pk)
    response = client.post(f"/admin/networks/cluster/{cluster.pk}/rotate/", {"bundle": upload(local)}, follow=True)
    assert "now uses the new credentials" in html.unescape(response.content.decode())
    response = client.post(f"/admin/networks/cluster/{cluster.pk}/test/", follow=True)
    assert f'Connected to "{local["name"]}" over TLS' in html.unescape(response.content.decode())
