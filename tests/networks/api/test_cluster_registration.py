"""POST /api/v1/clusters/ and the staff calls on a cluster: register (multipart bundle or JSON parts),
rotate credentials, test the connection, deregister. Staff only; the services' sentences in the one
error shape; the key and the Consul token never in an answer.

No worker answers here (the bad inputs are refused before one is asked); the calls that reach one are
in tests/networks/test_cluster_connect_worker.py, the success path in test_cluster_registration_live.py.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from networks.bundles import certificate_facts
from networks.models import Cluster, Network
from networks.services.clusters.registration import cluster_record
from networks.services.clusters.rotation import cluster_credentials_rotate
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import AuditEntry
from portal.services import api_token_create
from tests.apiclient import Api, assert_error
from tests.cluster_inputs import CASE_IDS, key_body
from tests.factories import found_swarm, made_bundle, make_staff
from tests.support import bundle_zip

pytestmark = pytest.mark.django_db

TOKEN = "consul-acl-token-api-77d1"
STAFF_ONLY = "Only the portal's staff may do this. Ask an admin."


@pytest.fixture
def staff_api(db) -> Api:
    """A staff user's token; the user is in no team."""
    return Api(api_token_create(actor=Actor.system("tests"), user=make_staff("api-staff"), name="staff")[1])


@pytest.fixture
def recorded(team):
    bundle = dataclasses.replace(made_bundle(), consul_token=TOKEN)
    return cluster_record(tenant=team.tenant, found=found_swarm(swarm_id="swarm-api"), bundle=bundle, name="api")


def multipart(api: Api, path: str, data: dict):
    """A multipart request; a (name, bytes) value is sent as a file, as `curl -F bundle=@FILE` would."""
    data = {key: SimpleUploadedFile(*value) if isinstance(value, tuple) else value for key, value in data.items()}
    return api.client.post(f"/api/v1/{path}", data, format="multipart", headers=api.headers)


def assert_no_secret(body: str, cluster: Cluster | None = None) -> None:
    for line in key_body(made_bundle()):
        assert line not in body
    assert TOKEN not in body
    if cluster is not None:
        assert cluster.tls_key_sealed[:40] not in body and cluster.consul_token_sealed[:40] not in body


def send(api: Api, path: str, case, **fields):
    """The case as a script would send it: the zip as multipart, pasted parts as JSON."""
    if case.upload is not None:
        return multipart(api, path, {**fields, **case.pasted, "bundle": ("bundle.zip", case.upload)})
    return api.post(path, {**fields, **case.pasted})


# --- who may -----------------------------------------------------------------------------------------


def test_only_staff_register_rotate_test_and_deregister(team, recorded):
    owner = team.api("owner")
    calls = [
        owner.post("clusters/", {"name": "mine"}),
        owner.post(f"clusters/{recorded.pk}/credentials/", {}),
        owner.post(f"clusters/{recorded.pk}/test/"),
        owner.delete(f"clusters/{recorded.pk}/"),
    ]
    for response in calls:
        assert_error(response, 403, "permission_denied", message=STAFF_ONLY)
    assert_error(Api().post("clusters/", {"name": "x"}), 401, "not_authenticated")
    assert Cluster.objects.filter(pk=recorded.pk).exists()


def test_a_missing_cluster_is_a_404_for_staff(staff_api):
    for response in (
        staff_api.post("clusters/987654/test/"),
        staff_api.post("clusters/987654/credentials/", {}),
        staff_api.delete("clusters/987654/"),
    ):
        assert_error(response, 404, "not_found", message="No such cluster.")


# --- the answer: credential facts, never the key ------------------------------------------------------


def test_a_cluster_shows_its_credential_facts_never_the_key_or_token(team, recorded):
    response = team.api("viewer").get(f"clusters/{recorded.pk}/")
    assert response.status_code == 200, response.content
    credentials = response.json()["credentials"]
    facts = certificate_facts(made_bundle().tls.cert_pem)
    assert credentials == {
        "endpoint": "tcp://127.0.0.1:9",
        "tls": True,
        "subject": "CN=portal",
        "fingerprint": facts.fingerprint,
        "expires": credentials["expires"],
        "updated": credentials["updated"],
        "consul_token_kept": True,
    }
    assert credentials["expires"].startswith(facts.not_after.strftime("%Y-%m-%dT%H:%M"))
    assert response.json()["swarm_id"] == "swarm-api"
    assert_no_secret(response.content.decode(), recorded)
    assert_no_secret(team.api("viewer").get("clusters/").content.decode(), recorded)


# --- bad input: the sentence on its field, nothing saved, the key never repeated ------------------------


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_registering_with_bad_credentials_is_a_400_naming_the_field(staff_api, team, bad_input_cases, case_id):
    case = bad_input_cases[case_id]
    response = send(staff_api, "clusters/", case, name="carina-east", tenant=team.tenant.slug)
    error = assert_error(response, 400, field=case.field)
    assert case.sentence in error["message"], error
    assert_no_secret(response.content.decode())
    assert not Cluster.objects.filter(name="carina-east").exists()
    assert not AuditEntry.objects.filter(action="cluster.register").exists()


@pytest.mark.parametrize("case_id", ["missing-files", "key-garbage", "not-yet-valid"])
def test_rotating_with_bad_credentials_is_a_400_and_the_old_ones_stay(staff_api, recorded, bad_input_cases, case_id):
    case = bad_input_cases[case_id]
    response = send(staff_api, f"clusters/{recorded.pk}/credentials/", case)
    error = assert_error(response, 400, field=case.field)
    assert case.sentence in error["message"]
    assert_no_secret(response.content.decode(), recorded)
    assert Cluster.objects.get(pk=recorded.pk).tls_key_sealed == recorded.tls_key_sealed


def test_the_request_fields_are_strict(staff_api, team):
    assert_error(staff_api.post("clusters/", {"name": "x", "bundel": "typo"}), 400, "unknown_field", field="bundel")
    assert_error(staff_api.post("clusters/", {"name": 4}), 400, "invalid", field="name")
    error = assert_error(staff_api.post("clusters/", {"name": "x", "bundle": "not a file"}), 400, field="bundle")
    assert "not a file" in error["message"]
    response = staff_api.raw("post", "clusters/", "name=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_the_first_team_the_name_and_the_registry_are_checked_before_a_worker_is_asked(staff_api, team):
    zipped = bundle_zip(made_bundle())
    answer = multipart(staff_api, "clusters/", {"name": "x", "bundle": ("b.zip", zipped)})
    assert_error(answer, 400, "bad_tenant", field="tenant")  # staff in no team must name one
    answer = multipart(staff_api, "clusters/", {"name": "x", "tenant": "nobody", "bundle": ("b.zip", zipped)})
    assert_error(
        answer,
        400,
        "bad_tenant",
        field="tenant",
        message='There is no team "nobody". Name an existing team by its short name (slug).',
    )
    answer = multipart(
        staff_api, "clusters/", {"name": "Big Name", "tenant": team.tenant.slug, "bundle": ("b.zip", zipped)}
    )
    assert_error(answer, 400, "bad_name", field="name")
    fields = {"name": "ok", "tenant": team.tenant.slug, "registry": "reg:port", "bundle": ("b.zip", zipped)}
    assert_error(multipart(staff_api, "clusters/", fields), 400, "bad_registry", field="registry")


# --- deregistering and rotating: the services' refusals --------------------------------------------------


def test_deregistering_is_refused_while_networks_or_containers_live(staff_api, team):
    team.network("web")
    team.container("db")
    team.network("gone", status=Network.Status.REMOVED)
    response = staff_api.delete(f"clusters/{team.cluster.pk}/")
    assert_error(
        response,
        409,
        "cluster_in_use",
        message=f'Cluster "{team.cluster.name}" still has networks "web" and containers "db". Remove them (or ask '
        "their teams to), then deregister it.",
    )
    assert Cluster.objects.filter(pk=team.cluster.pk).exists()


def test_deregistering_a_cluster_nobody_uses_is_a_204_and_audited(staff_api, recorded):
    response = staff_api.delete(f"clusters/{recorded.pk}/")
    assert response.status_code == 204, response.content
    assert not Cluster.objects.filter(pk=recorded.pk).exists()
    entry = AuditEntry.objects.get(action="cluster.deregister")
    assert entry.object_id == str(recorded.pk) and entry.token_name == "staff"
    assert entry.details["fingerprint"] == certificate_facts(made_bundle().tls.cert_pem).fingerprint
    assert_no_secret(repr(entry.details), recorded)


def test_rotating_is_refused_for_a_bundle_of_another_swarm(recorded):
    other = made_bundle("tcp://127.0.0.1:10")
    with pytest.raises(ServiceError) as refused:
        cluster_credentials_rotate(cluster=recorded, found=found_swarm(swarm_id="another-swarm"), bundle=other)
    assert refused.value.code == "other_swarm" and refused.value.http_status == 409
    assert refused.value.message.startswith('That bundle reaches swarm another-swarm, not "api" (swarm-api).')
    fresh = Cluster.objects.get(pk=recorded.pk)
    assert fresh.tls_key_sealed == recorded.tls_key_sealed and fresh.tls_cert == made_bundle().tls.cert_pem


def test_rotating_for_the_same_swarm_drops_the_old_key_at_once(recorded):
    other = made_bundle("tcp://127.0.0.1:10")
    rotated = cluster_credentials_rotate(cluster=recorded, found=found_swarm(swarm_id="swarm-api"), bundle=other)
    fresh = Cluster.objects.get(pk=recorded.pk)
    assert fresh.tls.key_pem == other.tls.key_pem and rotated.tls.key_pem == other.tls.key_pem
    assert fresh.tls_key_sealed != recorded.tls_key_sealed
    assert fresh.consul_token_sealed == ""  # the new bundle carries no token: the old one is not kept either
