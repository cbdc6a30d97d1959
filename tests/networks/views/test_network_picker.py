"""The run form's networks: picked from a list (one row each, with aliases and a static address), however
many networks the team has; a refusal about one network's alias or address shown on its row; the picker's
own buttons without JavaScript (add, remove), which keep everything typed."""

import html

import pytest

from networks.models import Container
from tests.factories import make_network
from tests.pages import error_summary_of, many_networks, run_form, tag_with_id

pytestmark = pytest.mark.django_db


def test_a_thousand_networks_are_one_list_and_only_the_picked_ones_have_boxes(client, team):
    networks = many_networks(team, 1000)
    client.force_login(team.member)
    picked = [networks[2], networks[10]]
    page = client.get("/containers/run/").content.decode()
    assert page.count("<option value=") >= 1000
    assert page.count('name="aliases_') == 1 and 'name="aliases___pk__"' in page  # the template's, for the script
    form = run_form(team.cluster, name="web", networks=[n.pk for n in picked], image="")  # refused: no image
    page = client.post("/containers/run/", form).content.decode()
    assert [page.count(f'<input type="hidden" name="networks" value="{n.pk}">') for n in picked] == [1, 1]
    assert [f'name="aliases_{n.pk}"' in page and f'name="ipv4_address_{n.pk}"' in page for n in picked] == [True] * 2
    assert page.count('type="text" name="aliases_') == 2 + 1  # and the template's, for the script to copy
    # the list offers the others in natural order: net-0002 before net-0010, the picked ones not again
    assert f'<option value="{networks[2].pk}" disabled>net-0002</option>' in page
    assert page.index(">net-0009</option>") < page.index(">net-0010</option>") < page.index(">net-0100</option>")


def test_a_link_with_network_opens_the_form_with_that_network_picked_and_ignores_others(client, team, other_team):
    mine, theirs = make_network(team, "front"), make_network(other_team, "rivals-db")
    client.force_login(team.member)
    page = client.get(f"/containers/run/?network={mine.pk}").content.decode()
    assert f'<input type="hidden" name="networks" value="{mine.pk}">' in page and f'name="aliases_{mine.pk}"' in page
    # another team's network, a network that is not, and a word: nothing picked, nothing told
    for value in (theirs.pk, 999999, "x'><script>"):
        page = client.get("/containers/run/", {"network": value}).content.decode()
        assert page.count('type="hidden" name="networks"') == 1  # the template's row, for the script to copy
        assert "rivals-db" not in page and "<script>" not in page


def test_a_run_joins_the_networks_in_the_order_picked_with_their_aliases_and_addresses(client, team):
    first, second = make_network(team, "zz-front"), make_network(team, "aa-back")
    address = str(second.subnet_network.network_address + 7)
    client.force_login(team.member)
    form = run_form(
        team.cluster,
        name="web",
        networks=[first.pk, second.pk, first.pk],  # listed twice by hand: joined once
        **{f"aliases_{first.pk}": "site, www", f"ipv4_address_{second.pk}": f" {address} "},
    )
    response = client.post("/containers/run/", form)
    assert response.status_code == 302
    container = Container.objects.get(name="web")
    endpoints = {e.network_id: e for e in container.endpoints.all()}
    assert endpoints[first.pk].aliases == ["site", "www"] and endpoints[first.pk].ipv4_address is None
    assert endpoints[second.pk].aliases == [] and endpoints[second.pk].ipv4_address == address
    # joined in the order picked: the first at start (container_launch_run), as the API's list
    assert container.operations.get().params["networks"] == ["zz-front", "aa-back"]


def test_a_bad_address_is_refused_on_its_networks_row_and_linked_from_the_summary(client, team):
    good, bad = make_network(team, "front"), make_network(team, "back")
    client.force_login(team.member)
    form = run_form(
        team.cluster,
        name="web",
        networks=[good.pk, bad.pk],
        **{f"aliases_{good.pk}": "site", f"ipv4_address_{bad.pk}": "10.0.0.300", f"aliases_{bad.pk}": "db"},
    )
    response = client.post("/containers/run/", form)
    page = response.content.decode()
    assert response.status_code == 400 and not Container.objects.exists()
    [(href, text)] = error_summary_of(page)
    assert href == f"#id_ipv4_address_{bad.pk}" and text.startswith("Static IPv4 address on back: ")
    field = tag_with_id(page, f"id_ipv4_address_{bad.pk}")
    assert field["aria-invalid"] == "true" and field["aria-describedby"] == f"id_ipv4_address_{bad.pk}_error"
    assert field["value"] == "10.0.0.300"  # kept, as is everything else typed on both rows
    message = tag_with_id(page, f"id_ipv4_address_{bad.pk}_error")
    assert message is not None and "aria-invalid" not in tag_with_id(page, f"id_aliases_{bad.pk}")
    assert tag_with_id(page, f"id_aliases_{good.pk}")["value"] == "site"
    assert tag_with_id(page, f"id_aliases_{bad.pk}")["value"] == "db"


def test_a_bad_alias_is_refused_on_its_networks_row(client, team):
    good, bad = make_network(team, "front"), make_network(team, "back")
    client.force_login(team.member)
    form = run_form(
        team.cluster,
        name="web",
        networks=[good.pk, bad.pk],
        **{f"aliases_{good.pk}": "ok", f"aliases_{bad.pk}": "bad alias!"},
    )
    page = client.post("/containers/run/", form).content.decode()
    sentence = "Alias “bad alias!” is not a valid DNS name"
    [(href, text)] = error_summary_of(page)
    assert href == f"#id_aliases_{bad.pk}" and text.startswith(f"Aliases on back: {sentence}")
    assert tag_with_id(page, f"id_aliases_{bad.pk}")["aria-invalid"] == "true"
    assert sentence in html.unescape(page.split(f'id="id_aliases_{bad.pk}_error">')[1])
    assert "aria-invalid" not in tag_with_id(page, f"id_aliases_{good.pk}")


def test_another_teams_network_is_refused_on_the_picker(client, team, other_team):
    theirs = make_network(other_team, "theirs")
    make_network(team, "ours")
    client.force_login(team.member)
    page = client.post("/containers/run/", run_form(team.cluster, name="web", networks=[theirs.pk])).content.decode()
    sentence = f"No network “{theirs.pk}” that your team can use on this cluster."
    assert error_summary_of(page) == [("#id_networks", f"Networks: {sentence}".replace("“", '"').replace("”", '"'))]
    assert tag_with_id(page, "id_networks")["aria-invalid"] == "true"
    assert "theirs" not in page and not Container.objects.exists()


def test_without_javascript_add_and_remove_draw_the_form_again_keeping_what_was_typed(client, team):
    front, back = make_network(team, "front"), make_network(team, "back")
    client.force_login(team.member)
    typed = run_form(team.cluster, env=[("TZ", "UTC", False)], name="web", networks=[front.pk])
    typed[f"aliases_{front.pk}"] = "site"
    response = client.post("/containers/run/", {**typed, "picker_network": str(back.pk), "picker_add": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and "data-error-summary" not in page and not Container.objects.exists()
    assert tag_with_id(page, f"id_aliases_{front.pk}")["value"] == "site"
    assert "autofocus" in tag_with_id(page, f"id_aliases_{back.pk}")  # on the row just added
    assert tag_with_id(page, "id_name")["value"] == "web" and tag_with_id(page, "id_env-0-value")["value"] == "UTC"

    both = {**typed, "networks": [front.pk, back.pk], f"aliases_{back.pk}": "db"}
    page = client.post("/containers/run/", {**both, "picker_remove": str(front.pk)}).content.decode()
    assert f'name="aliases_{front.pk}"' not in page and tag_with_id(page, f"id_aliases_{back.pk}")["value"] == "db"
    assert "autofocus" in tag_with_id(page, "id_networks") and not Container.objects.exists()


def test_without_javascript_a_network_chosen_but_not_added_is_joined_too(client, team):
    front, back = make_network(team, "front"), make_network(team, "back")
    client.force_login(team.member)
    form = run_form(team.cluster, name="web", networks=[front.pk], picker_network=str(back.pk))
    assert client.post("/containers/run/", form).status_code == 302
    assert set(Container.objects.get(name="web").endpoints.values_list("network__name", flat=True)) == {"front", "back"}


@pytest.mark.parametrize("value", ["²", "0", "-1", "9" * 30, "abc", "1\x00", ""])
def test_hostile_picker_values_are_refused_or_ignored_never_a_500(client, team, value):
    net = make_network(team, "front")
    client.force_login(team.member)
    form = run_form(team.cluster, name="web", networks=[net.pk, value], **{f"aliases_{net.pk}": "site"})
    assert client.post("/containers/run/", form).status_code in (302, 400)
    for step in ({"picker_add": "1", "picker_network": value}, {"picker_remove": value}):
        response = client.post("/containers/run/", {**form, **step})
        assert response.status_code == 200 and tag_with_id(response.content.decode(), f"id_aliases_{net.pk}")
    assert client.post("/containers/run/", {**form, f"aliases_{net.pk}": "a\x00"}).status_code == 400
