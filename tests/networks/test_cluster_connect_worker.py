"""Through a real worker: registering with an endpoint where nothing answers is refused with the sentence
on every surface and saves nothing; the connection test of a registered cluster (networks.cluster_test,
the cluster's id only) answers a sentence on the page and through the API."""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from networks.models import Cluster
from networks.services.clusters.registration import cluster_record
from portal.actors import Actor
from portal.models import AuditEntry
from portal.services import api_token_create
from tests.apiclient import Api, assert_error
from tests.cluster_inputs import field_error, key_body
from tests.factories import found_swarm, made_bundle, make_staff
from tests.support import bundle_zip

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

UNREACHABLE = (
    "Nothing answers at tcp://127.0.0.1:9 (connection refused). Check DOCKER_HOST in docker.env, that the cluster "
    "is up, and that this machine can reach it."
)


@pytest.fixture
def staff(db):
    return make_staff("worker-staff")


def upload():
    return SimpleUploadedFile("carina.zip", bundle_zip(made_bundle()), content_type="application/zip")


@pytest.mark.parametrize("url", ["/clusters/register/", "/admin/networks/cluster/add/"])
def test_registering_where_nothing_answers_is_refused_on_the_endpoint_field(
    celery_worker_process, client, staff, team, url
):
    client.force_login(staff)
    data = {"tenant": team.tenant.pk, "name": "far-away", "registry": "", "bundle": upload()}
    response = client.post(url, data)
    assert response.status_code == 400, response.content[:3000]
    assert field_error(response.content.decode(), "docker_host") == UNREACHABLE
    page = html.unescape(response.content.decode())
    assert 'value="far-away"' in page
    assert not any(line in page for line in key_body(made_bundle()))
    assert not Cluster.objects.filter(name="far-away").exists()
    assert not AuditEntry.objects.filter(action="cluster.register").exists()


def test_registering_through_the_api_where_nothing_answers(celery_worker_process, staff, team):
    api = Api(api_token_create(actor=Actor.system("tests"), user=staff, name="staff")[1])
    response = api.client.post(
        "/api/v1/clusters/", {"name": "far-away", "tenant": team.tenant.slug, "bundle": upload()}, format="multipart"
    )
    assert_error(response, 400, "cluster_unreachable", field="docker_host", message=UNREACHABLE)
    body = made_bundle()
    parts = {"docker_host": body.docker_host, "ca_pem": body.tls.ca_pem, "cert_pem": body.tls.cert_pem}
    response = api.post(
        "clusters/", {"name": "far-away", "tenant": team.tenant.slug, **parts, "key_pem": body.tls.key_pem}
    )
    assert_error(response, 400, "cluster_unreachable", field="docker_host", message=UNREACHABLE)
    assert not Cluster.objects.filter(name="far-away").exists()


@pytest.fixture
def recorded(team):
    return cluster_record(tenant=team.tenant, found=found_swarm(swarm_id="swarm-far"), bundle=made_bundle(), name="far")


def test_the_connection_test_answers_with_a_sentence_through_the_api(celery_worker_process, staff, recorded):
    api = Api(api_token_create(actor=Actor.system("tests"), user=staff, name="staff")[1])
    response = api.post(f"clusters/{recorded.pk}/test/")
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": False, "code": "cluster_unreachable", "message": UNREACHABLE}


def test_the_connection_test_answers_in_place_on_the_cluster_page(celery_worker_process, client, staff, recorded):
    client.force_login(staff)
    page = client.get(f"/clusters/{recorded.pk}/").content.decode()
    assert f'hx-post="/clusters/{recorded.pk}/test/" hx-target="#cluster-test-answer"' in page
    response = client.post(f"/clusters/{recorded.pk}/test/", headers={"HX-Request": "true"})
    part = html.unescape(response.content.decode())
    assert response.status_code == 200 and "<html" not in part
    assert 'id="cluster-test-answer"' in part and f'<p class="message error">{UNREACHABLE}</p>' in part
    # without htmx: the sentence as a message on the cluster's page
    response = client.post(f"/clusters/{recorded.pk}/test/", follow=True)
    assert UNREACHABLE in html.unescape(response.content.decode())
