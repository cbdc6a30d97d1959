"""A network's description and tags: PATCH and the network page change them (never Docker), the lists
filter by tag and by Docker label (`?tag=pci`, `?label=env=prod`, on the page too), and each change
is one audit entry with what was before and after."""

import pytest

from networks.models import Network
from portal.models import AuditEntry
from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(n["name"] for n in response.json()["results"])


def test_patch_sets_the_description_and_tags_and_the_audit_log_has_before_and_after(team):
    network = team.network("cards")
    answer = team.api("member").patch(
        f"networks/{network.pk}/", {"description": "Card data, PCI scope.", "tags": ["PCI", " eu-west ", "pci"]}
    )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["description"], answer.json()["tags"]) == ("Card data, PCI scope.", ["eu-west", "pci"])
    entry = AuditEntry.objects.get(action="network.describe")
    assert entry.details == {
        "before": {"description": "", "tags": []},
        "after": {"description": "Card data, PCI scope.", "tags": ["eu-west", "pci"]},
    }
    # Only the field given changes; the audit entry names only what changed.
    team.api().patch(f"networks/{network.pk}/", {"tags": ["pci"]})
    assert team.api().get(f"networks/{network.pk}/").json()["description"] == "Card data, PCI scope."
    latest = AuditEntry.objects.filter(action="network.describe").latest("pk")
    assert latest.details == {"before": {"tags": ["eu-west", "pci"]}, "after": {"tags": ["pci"]}}
    team.api().patch(f"networks/{network.pk}/", {"tags": ["pci"]})
    assert AuditEntry.objects.filter(action="network.describe").count() == 2, "no change, no entry"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"tags": "pci"}, 400, "not_a_list", "tags"),
        ({"tags": [7]}, 400, "invalid", "tags.0"),
        ({"tags": ["p c i"]}, 400, "bad_tag", "tags"),
        ({"tags": ["étiquette"]}, 400, "bad_tag", "tags"),
        ({"tags": ["x" * 33]}, 400, "bad_tag", "tags"),
        ({"tags": [f"t{n}" for n in range(10_000)]}, 400, "too_many_tags", "tags"),
        ({"description": "x" * 501}, 400, None, "description"),
        ({"description": 5}, 400, "invalid", "description"),
        ({"name": "renamed"}, 400, "unknown_field", "name"),
    ],
)
def test_bad_details_are_a_400_on_their_field(team, body, status, code, field):
    network = team.network("n")
    assert_error(team.api().patch(f"networks/{network.pk}/", body), status, code, field=field)
    assert not AuditEntry.objects.filter(action="network.describe").exists()


def test_viewers_and_other_teams_cannot_describe_a_network(team, other_team):
    network = team.network("mine")
    assert team.api("viewer").patch(f"networks/{network.pk}/", {"tags": ["x"]}).status_code == 403
    assert other_team.api().patch(f"networks/{network.pk}/", {"tags": ["x"]}).status_code == 404
    Network.objects.filter(pk=network.pk).update(status=Network.Status.REMOVED)
    assert_error(team.api().patch(f"networks/{network.pk}/", {"tags": ["x"]}), 409, "bad_state")


def test_the_lists_filter_by_tag_and_by_docker_label(team, client):
    prod = team.network("prod-cards", labels={"env": "prod", "team": "payments"})
    team.network("staging-cards", labels={"env": "staging"})
    team.network("plain")
    team.api().patch(f"networks/{prod.pk}/", {"tags": ["pci", "eu"]})
    api = team.api()
    assert names(api.get("networks/", {"tag": "pci"})) == ["prod-cards"]
    assert names(api.get("networks/?tag=pci&tag=eu")) == ["prod-cards"]
    assert names(api.get("networks/?tag=pci&tag=us")) == []
    assert names(api.get("networks/", {"label": "env=prod"})) == ["prod-cards"]
    assert names(api.get("networks/", {"label": "env"})) == ["prod-cards", "staging-cards"]
    assert names(api.get("networks/?label=env=prod&label=team=payments")) == ["prod-cards"]
    assert names(api.get("networks/", {"label": "env=prod=x"})) == []
    for hostile in ("contains=x", "a__b=1", "=", "env=", "ünï=cödé", "'; drop table x; --"):
        assert names(api.get("networks/", {"label": hostile})) == []
    client.force_login(team.member)
    page = client.get("/networks/", {"tag": "pci"}).content.decode()
    assert "prod-cards" in page and "staging-cards" not in page
    page = client.get("/networks/", {"label": "env=staging"}).content.decode()
    assert "staging-cards" in page and "prod-cards" not in page


def test_the_network_page_edits_them(team, client):
    network = team.network("cards")
    client.force_login(team.member)
    page = client.get(f"/networks/{network.pk}/").content.decode()
    assert "Edit the description and tags" in page
    response = client.post(f"/networks/{network.pk}/describe/", {"description": "Card data", "tags": "pci, eu"})
    assert response.status_code == 302
    page = client.get(f"/networks/{network.pk}/").content.decode()
    assert "Card data" in page and ">pci</a>" in page
    refused = client.post(f"/networks/{network.pk}/describe/", {"description": "", "tags": "p c i"})
    assert refused.status_code == 400 and "is not a tag" in refused.content.decode()
