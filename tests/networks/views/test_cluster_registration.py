"""Staff register and manage clusters on the portal's pages and in the admin: one form, the services'
sentences on the right field, the key never echoed back nor shown, deregistration refused while in use.

Clusters here are rows (tests/factories.py, or cluster_record with a swarm nobody calls); the tests that
connect go through a real worker to an endpoint where nothing answers. The success path against the
real cluster is in tests/networks/test_cluster_registration_live.py (marked cluster).
"""

from __future__ import annotations

import dataclasses
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from networks.bundles import certificate_facts
from networks.models import Cluster, Network
from networks.services.clusters.registration import cluster_record
from portal.models import AuditEntry
from tests.cluster_inputs import CASE_IDS, field_error, form_data, key_body
from tests.factories import found_swarm, made_bundle, make_container, make_network, make_staff
from tests.support import bundle_zip

pytestmark = pytest.mark.django_db

TOKEN = "consul-acl-token-5f2e9b"
STAFF_PAGES = ["/clusters/", "/clusters/register/"]


@pytest.fixture
def staff(db):
    """Staff in no team at all: the cluster pages are theirs whatever team they are in."""
    return make_staff("staff-admin")


@pytest.fixture
def recorded(team):
    """The team's cluster as registration records it: credentials from a bundle (with a Consul token)."""
    bundle = dataclasses.replace(made_bundle(), consul_token=TOKEN)
    return cluster_record(
        tenant=team.tenant, found=found_swarm(swarm_id="swarm-recorded"), bundle=bundle, name="recorded"
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def assert_no_secret(page: str, cluster: Cluster | None = None) -> None:
    for line in key_body(made_bundle()):
        assert line not in page
    assert TOKEN not in page
    if cluster is not None:
        assert cluster.tls_key_sealed[:40] not in page and cluster.consul_token_sealed[:40] not in page


# --- who may ---------------------------------------------------------------------------------------


def test_the_cluster_pages_are_for_staff_only(client, team):
    cluster = team.cluster
    client.force_login(team.owner)  # an owner of a team, not staff
    for url in [*STAFF_PAGES, f"/clusters/{cluster.pk}/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Only the portal&#x27;s staff may do this." in response.content.decode()
    for action in ("test", "credentials", "deregister"):
        assert client.post(f"/clusters/{cluster.pk}/{action}/").status_code == 403, action
    assert Cluster.objects.filter(pk=cluster.pk).exists()
    assert 'href="/clusters/"' not in client.get("/").content.decode()  # no link in the nav either


def test_anonymous_users_are_sent_to_log_in(client, team):
    for url in [*STAFF_PAGES, f"/clusters/{team.cluster.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_staff_see_the_clusters_page_in_the_nav_and_every_cluster_with_its_credential_facts(
    client, staff, recorded, other_team
):
    client.force_login(staff)
    page = text(client.get("/"))
    assert '<a href="/clusters/"' in page
    page = text(client.get("/clusters/"))
    assert "recorded" in page and other_team.cluster.name in page  # every team's clusters
    assert "tcp://127.0.0.1:9" in page and "CN=portal" in page and "TLS" in page
    assert recorded.credentials_expire.strftime("%Y-%m-%d") in page
    assert "Nodes ready 0/2" in page
    assert_no_secret(page, recorded)


def test_a_missing_cluster_is_a_404_for_staff(client, staff):
    client.force_login(staff)
    assert client.get("/clusters/987654/").status_code == 404
    assert client.post("/clusters/987654/test/").status_code == 404


# --- register: every bad input, on the page and in the admin --------------------------------------


@pytest.mark.parametrize("case_id", CASE_IDS)
@pytest.mark.parametrize("url", ["/clusters/register/", "/admin/networks/cluster/add/"])
def test_registering_with_bad_credentials_says_what_is_wrong_on_the_field_and_keeps_what_was_typed(
    client, staff, team, bad_input_cases, case_id, url
):
    case = bad_input_cases[case_id]
    client.force_login(staff)
    before = Cluster.objects.count()
    response = client.post(
        url, form_data(case, tenant=team.tenant.pk, name="carina-east", registry="192.168.250.1:5000")
    )
    page = text(response)
    assert response.status_code == 400, page[:3000]
    assert case.sentence in field_error(response.content.decode(), case.field), (case.field, page[:5000])
    assert 'value="carina-east"' in page and 'value="192.168.250.1:5000"' in page  # what was typed is kept
    if case.pasted.get("ca_pem"):
        assert case.pasted["ca_pem"].strip().splitlines()[1] in page  # the public PEMs too
    assert_no_secret(page)  # ... except the key, never echoed back
    assert Cluster.objects.count() == before
    assert not AuditEntry.objects.filter(action="cluster.register").exists()


@pytest.mark.parametrize("url", ["/clusters/register/", "/admin/networks/cluster/add/"])
def test_the_register_form_asks_for_the_bundle_or_the_pasted_parts_the_team_the_name_and_the_registry(
    client, staff, url
):
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page
    for name in ("bundle", "docker_host", "ca_pem", "cert_pem", "key_pem", "tenant", "name", "registry"):
        assert f'name="{name}"' in page, name
    assert 'type="password" name="consul_token"' in page


def test_a_bad_name_or_registry_is_refused_before_any_worker_is_asked(client, staff, team):
    client.force_login(staff)
    data = {"tenant": team.tenant.pk, "bundle": SimpleUploadedFile("b.zip", bundle_zip(made_bundle()))}
    response = client.post("/clusters/register/", {**data, "name": "Prod East!"})
    assert response.status_code == 400
    assert "lowercase letters, digits, hyphens or underscores" in field_error(response.content.decode(), "name")
    data["bundle"] = SimpleUploadedFile("b.zip", bundle_zip(made_bundle()))
    response = client.post("/clusters/register/", {**data, "name": "prod", "registry": "http://reg/"})
    assert response.status_code == 400
    assert "is not a registry address" in field_error(response.content.decode(), "registry")
    assert_no_secret(text(response))


# --- the cluster's page and the admin's change page -------------------------------------------------


def test_the_cluster_page_shows_the_credential_facts_never_the_key_or_token(client, staff, recorded):
    client.force_login(staff)
    page = text(client.get(f"/clusters/{recorded.pk}/"))
    assert "tcp://127.0.0.1:9" in page and "mutual TLS" in page
    assert "CN=portal" in page and recorded.swarm_id in page
    assert certificate_facts(made_bundle().tls.cert_pem).fingerprint in page
    assert "kept, sealed" in page  # the Consul token: that it is kept, not what it is
    assert f'hx-post="/clusters/{recorded.pk}/test/"' in page
    assert f'action="/clusters/{recorded.pk}/credentials/"' in page
    assert f'action="/clusters/{recorded.pk}/deregister/"' in page
    assert_no_secret(page, recorded)


def test_the_admin_change_page_shows_the_credential_facts_and_the_actions_never_the_key_or_token(
    client, staff, recorded
):
    client.force_login(staff)
    page = text(client.get(f"/admin/networks/cluster/{recorded.pk}/change/"))
    assert "tcp://127.0.0.1:9" in page and "CN=portal" in page and "kept, sealed" in page
    assert "SHA-256 fingerprint" in page and certificate_facts(made_bundle().tls.cert_pem).fingerprint in page
    assert "Test connection" in page and f"/admin/networks/cluster/{recorded.pk}/rotate/" in page
    assert "tls_key_sealed" not in page and "consul_token_sealed" not in page
    assert_no_secret(page, recorded)
    page = text(client.get("/admin/networks/cluster/"))
    assert "delete_selected" not in page  # no bulk delete: one cluster at a time, through deregistering


@pytest.mark.parametrize("case_id", ["not-a-zip", "key-of-another-cert", "expired"])
@pytest.mark.parametrize("where", ["page", "admin"])
def test_rotating_with_bad_credentials_is_refused_with_the_sentence_and_the_old_ones_kept(
    client, staff, recorded, bad_input_cases, case_id, where
):
    case = bad_input_cases[case_id]
    client.force_login(staff)
    url = (
        f"/clusters/{recorded.pk}/credentials/" if where == "page" else f"/admin/networks/cluster/{recorded.pk}/rotate/"
    )
    response = client.post(url, form_data(case))
    assert response.status_code == 400
    assert case.sentence in field_error(response.content.decode(), case.field)
    assert_no_secret(text(response), recorded)
    fresh = Cluster.objects.get(pk=recorded.pk)
    assert (fresh.tls_key_sealed, fresh.credentials_updated) == (recorded.tls_key_sealed, recorded.credentials_updated)
    assert not AuditEntry.objects.filter(action="cluster.rotate").exists()


# --- deregistering ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["page", "admin"])
def test_deregistering_is_refused_while_networks_or_containers_live_and_names_them(client, staff, team, where):
    make_network(team, "web")
    make_container(team, "db")
    make_network(team, "old", status=Network.Status.REMOVED)
    client.force_login(staff)
    cluster = team.cluster
    if where == "page":
        response = client.post(f"/clusters/{cluster.pk}/deregister/", follow=True)
    else:
        response = client.post(f"/admin/networks/cluster/{cluster.pk}/delete/", {"post": "yes"}, follow=True)
    page = text(response)
    assert f'Cluster "{cluster.name}" still has networks "web" and containers "db".' in page
    assert "old" not in page.split("still has", 1)[1].split(".", 1)[0]
    assert Cluster.objects.filter(pk=cluster.pk).exists()
    assert not AuditEntry.objects.filter(action="cluster.deregister").exists()


@pytest.mark.parametrize("where", ["page", "admin"])
def test_deregistering_a_cluster_nobody_uses_forgets_it_and_audits_it(client, staff, recorded, where):
    client.force_login(staff)
    if where == "page":
        response = client.post(f"/clusters/{recorded.pk}/deregister/", follow=True)
    else:
        response = client.post(f"/admin/networks/cluster/{recorded.pk}/delete/", {"post": "yes"}, follow=True)
    assert 'Cluster "recorded" is deregistered: the portal no longer uses its credentials.' in text(response)
    assert not Cluster.objects.filter(pk=recorded.pk).exists()
    entry = AuditEntry.objects.get(action="cluster.deregister")
    assert entry.object_id == str(recorded.pk) and entry.user == staff
    assert entry.details["endpoint"] == "tcp://127.0.0.1:9" and entry.details["swarm_id"] == "swarm-recorded"
    assert_no_secret(repr(entry.details), recorded)
