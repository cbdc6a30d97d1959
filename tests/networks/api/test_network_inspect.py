"""Docker's view of a network (docker network inspect) is for its own team: the page and the API
refuse a team it is shared with in the same sentence, and wait until the network is active."""

import pytest
from django.test import Client

from networks.services.grants import cluster_grant
from networks.services.shares import network_share
from portal.actors import Actor
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_a_team_a_network_is_shared_with_is_refused_docker_s_view_on_the_page_and_in_the_api(team, other_team):
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=other_team.tenant)
    network = team.network("backend")
    network_share(actor=Actor.system("tests"), tenant=team.tenant, network=network, with_tenant=other_team.tenant.slug)
    sentence = (
        f"{team.tenant.name} shares this network with your team; Docker's view of it, with every team's "
        "containers, is for its own team."
    )
    assert_error(other_team.api().get(f"networks/{network.pk}/inspect/"), 403, "shared_network", None, sentence)
    page = Client()
    page.force_login(other_team.users["owner"])
    answer = page.get(f"/networks/{network.pk}/inspect/", headers=HTMX)
    assert answer.status_code == 200
    assert sentence.replace("'", "&#x27;") in answer.content.decode()


def test_the_page_says_when_the_view_appears_until_the_network_is_active(team):
    network = team.network("slow", status="creating")
    page = Client()
    page.force_login(team.users["owner"])
    answer = page.get(f"/networks/{network.pk}/inspect/", headers=HTMX).content.decode()
    assert "The live view from the cluster appears once the network is active." in answer
    assert "notice warn" not in answer
