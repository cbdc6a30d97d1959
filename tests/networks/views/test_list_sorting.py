"""The lists' sorting, page numbers and live count: natural order by name, column headers that sort and
keep the search and filters, numbered pages up to the last, and a status element that says only how
many rows match. The API's ?ordering= sorts the same way."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from networks.models import Operation
from tests.factories import make_container, make_network, make_operation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "results"}


def names(page: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", page)


def header(page: str, label: str) -> tuple[str, dict]:
    """A sortable column's <th> attributes and its link's query."""
    found = re.search(r'<th scope="col"([^>]*)><a class="sort-link"[^>]*? href="([^"]+)"[^>]*>' + label + "<", page)
    assert found, f"no sortable {label} column"
    return found.group(1), parse_qs(urlsplit(unescape(found.group(2))).query)


def test_networks_sort_by_name_naturally_and_reverse(client, team):
    for name in ["cpu-a-10", "cpu-a-2", "CPU-a-3", "cpu-a-1", "db"]:
        make_network(team, name)
    client.force_login(team.viewer)

    assert names(client.get("/networks/").content.decode()) == ["cpu-a-1", "cpu-a-2", "CPU-a-3", "cpu-a-10", "db"]
    reversed_page = client.get("/networks/?ordering=-name").content.decode()
    assert names(reversed_page) == ["db", "cpu-a-10", "CPU-a-3", "cpu-a-2", "cpu-a-1"]


def test_networks_sort_by_subnet_numerically_and_by_their_containers(client, team):
    make_network(team, "wide", subnet="10.9.10.0/24")
    narrow = make_network(team, "narrow", subnet="10.9.2.0/24")
    busy = make_network(team, "busy", subnet="10.9.100.0/24")
    make_container(team, "one", networks=[busy, narrow])
    make_container(team, "two", networks=[busy])
    client.force_login(team.viewer)

    assert names(client.get("/networks/?ordering=subnet").content.decode()) == ["narrow", "wide", "busy"]
    assert names(client.get("/networks/?ordering=-containers").content.decode()) == ["busy", "narrow", "wide"]
    assert names(client.get("/networks/?ordering=-subnet").content.decode()) == ["busy", "wide", "narrow"]


def test_sort_links_keep_the_search_and_filters_and_go_back_to_the_first_page(client, team):
    for i in range(30):
        make_network(team, f"svc-{i}")
    client.force_login(team.viewer)

    page = client.get("/networks/?q=svc&status=active&shared=false&page=2").content.decode()

    attributes, query = header(page, "Name")
    assert 'aria-sort="ascending"' in attributes  # sorted by name when nothing is asked
    assert query == {"q": ["svc"], "status": ["active"], "shared": ["false"], "ordering": ["-name"]}
    attributes, query = header(page, "Containers")
    assert "aria-sort" not in attributes and query["ordering"] == ["containers"] and query["q"] == ["svc"]

    page = client.get("/networks/?q=svc&ordering=-name").content.decode()
    attributes, query = header(page, "Name")
    assert 'aria-sort="descending"' in attributes and query["ordering"] == ["name"]
    assert names(page)[:3] == ["svc-29", "svc-28", "svc-27"]
    # The chosen ordering goes with the next search from the filter form.
    assert '<input type="hidden" name="ordering" value="-name" form="filters">' in page
    assert 'id="filters"' in page


def test_pages_are_numbered_up_to_a_link_to_the_last_one_keeping_the_search(client, team):
    for i in range(260):
        make_network(team, f"n-{i}")
    make_network(team, "other")
    client.force_login(team.viewer)

    page = client.get("/networks/?q=n-&ordering=-name&page=6").content.decode()

    links = re.findall(r'<a class="button small" href="([^"]+)"[^>]*aria-label="([^"]+)"', page)
    pages = {label: parse_qs(urlsplit(unescape(href)).query) for href, label in links}
    assert list(pages) == ["Page 1", "Page 4", "Page 5", "Page 7", "Page 8", "Page 11, the last"]
    assert pages["Page 11, the last"] == {"q": ["n-"], "ordering": ["-name"], "page": ["11"]}
    assert '<span class="button small current" aria-current="page">6</span>' in page
    assert page.count('<li aria-hidden="true">…</li>') == 2
    assert names(client.get("/networks/?q=n-&ordering=-name&page=11").content.decode()) == [
        "n-9",
        "n-8",
        "n-7",
        "n-6",
        "n-5",
        "n-4",
        "n-3",
        "n-2",
        "n-1",
        "n-0",
    ]

    far = client.get("/networks/?q=n-&page=1").content.decode()
    assert re.findall(r'aria-label="(Page [^"]+)"', far) == ["Page 2", "Page 3", "Page 11, the last"]
    assert '<li aria-hidden="true">…</li>' in far


def test_only_a_count_of_matches_is_live_never_the_table(client, team):
    make_network(team, "web-1")
    make_network(team, "web-2")
    make_network(team, "db")
    client.force_login(team.viewer)

    page = client.get("/networks/?q=web").content.decode()
    status = re.search(r'<p id="results-status"[^>]*role="status"[^>]*>([^<]*)</p>', page)
    assert status and status.group(1) == "2 networks match"
    assert "aria-live" not in page.split('<div id="results"')[1].split(">")[0]

    part = client.get("/networks/?q=db", headers=HTMX).content.decode()
    assert "<p" in part and "1 network matches" in part and 'role="status"' not in part


def test_containers_sort_by_name_naturally_and_by_node(client, team):
    net = make_network(team, "net")
    make_container(team, "app-10", node="node1", networks=[net])
    make_container(team, "app-9", node="node2", networks=[net])
    make_container(team, "app-1", node="node2")
    client.force_login(team.viewer)

    assert names(client.get("/containers/").content.decode()) == ["app-1", "app-9", "app-10"]
    assert names(client.get("/containers/?ordering=-node,name").content.decode()) == ["app-1", "app-9", "app-10"]
    assert names(client.get("/containers/?ordering=node,-name").content.decode()) == ["app-10", "app-9", "app-1"]
    # Filtered through a join (SELECT DISTINCT): the sort's expressions still apply.
    assert names(client.get(f"/containers/?network={net.pk}&ordering=-name").content.decode()) == ["app-10", "app-9"]
    attributes, query = header(client.get("/containers/?exposed=false").content.decode(), "Node")
    assert query == {"exposed": ["false"], "ordering": ["node"]}


def test_operations_sort_by_status_keeping_the_kind_filter(client, team):
    make_operation(team, target="first", status=Operation.Status.SUCCEEDED)
    make_operation(team, target="second", status=Operation.Status.FAILED, error="It failed.")
    make_operation(team, target="third", status=Operation.Status.RUNNING)
    client.force_login(team.viewer)

    page = client.get("/operations/?kind=network_create").content.decode()
    assert re.findall(r'data-label="Target">(\w+)<', page) == ["third", "second", "first"]  # newest first
    attributes, query = header(page, "When")
    assert 'aria-sort="descending"' in attributes and query == {"kind": ["network_create"], "ordering": ["created"]}
    _, query = header(page, "Status")
    page = client.get("/operations/", query).content.decode()
    assert re.findall(r'data-label="Target">(\w+)<', page) == ["second", "third", "first"]


def test_the_api_orders_by_the_same_columns(api_team):
    for name in ["cpu-a-10", "cpu-a-2", "cpu-a-1"]:
        network = make_network(api_team, name)
    make_container(api_team, "c", networks=[network])
    api = api_team.api()

    listed = api.get("networks/", {"ordering": "name"}).json()["results"]
    assert [row["name"] for row in listed] == ["cpu-a-1", "cpu-a-2", "cpu-a-10"]
    listed = api.get("networks/", {"ordering": "-containers,-name"}).json()["results"]
    assert [row["name"] for row in listed] == ["cpu-a-1", "cpu-a-10", "cpu-a-2"]
    listed = api.get("containers/", {"network": network.pk, "ordering": "-node,name"}).json()["results"]
    assert [row["name"] for row in listed] == ["c"]
