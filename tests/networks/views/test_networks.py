"""The network pages: list, create (with its preview), detail, connect, disconnect, remove."""

import pytest
from django.urls import reverse

from networks.models import Endpoint, Network, Operation, SubnetAllocation
from networks.selectors.allocations import cluster_capacity
from tests.factories import make_container, make_network, make_operation
from tests.pages import error_summary_of, tag_with_id

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_the_list_shows_the_teams_networks_only(client, team, other_team):
    web = make_network(team, "web")
    make_network(other_team, "theirs")
    client.force_login(team.viewer)
    page = client.get("/networks/").content.decode()
    assert "web" in page and web.subnet in page and "theirs" not in page


def test_search_filter_and_pagination(client, team):
    for i in range(30):
        make_network(team, f"svc-{i:02}")
    make_network(team, "database")
    make_network(team, "gone", status=Network.Status.REMOVED)
    client.force_login(team.viewer)

    page = client.get("/networks/?q=data").content.decode()
    assert "database" in page and "svc-01" not in page
    page = client.get("/networks/").content.decode()
    assert "Page 1 of 2" in page and "gone" not in page  # removed networks are hidden unless asked for
    page = client.get("/networks/?page=2").content.decode()
    assert "svc-29" in page and "svc-00" not in page
    page = client.get("/networks/?status=removed").content.decode()
    assert "gone" in page and "database" not in page
    page = client.get("/networks/?q=10.0.5.").content.decode()
    assert "svc-05" in page  # the search also matches subnets
    page = client.get("/networks/?status=sleeping&q=data").content.decode()  # a hand-made address
    assert "database" in page and "svc-01" not in page  # the search still narrows, the status is dropped
    assert (
        "A filter of this address was left out, so the list is not narrowed by it: &quot;sleeping&quot; is not a "
        "status: use one of creating, active, removing, removed, failed." in page
    )
    assert "left out" not in client.get("/networks/?status=active").content.decode()


def test_htmx_asks_for_the_results_only(client, team):
    make_network(team, "web")
    client.force_login(team.viewer)
    response = client.get("/networks/?q=we", headers={**HTMX, "HX-Target": "results"})
    assert b"<html" not in response.content and b"web" in response.content


def test_the_create_form_shows_the_next_free_block_before_submitting(client, team):
    make_network(team, "first")
    client.force_login(team.member)
    expected = cluster_capacity(cluster=team.cluster).next_block
    page = client.get("/networks/new/").content.decode()
    gateway = expected.network_address + 1
    assert (
        f'The network will get <span class="block">{expected}</span>, gateway <span class="block">{gateway}</span>'
        in page
    )
    # the preview answers for another size too, and holds nothing
    before = SubnetAllocation.objects.count()
    page = client.get(f"/networks/new/preview/?cluster={team.cluster.pk}&prefixlen=20", headers=HTMX).content.decode()
    assert "/20</span>" in page and "4,094 addresses" in page
    assert SubnetAllocation.objects.count() == before


@pytest.mark.parametrize(
    ("subnet", "gateway", "expected"),
    [
        ("10.0.42.0/24", "", '<span class="block">10.0.42.0/24</span> is free'),
        ("10.0.42.0/24", "10.0.42.254", 'gateway <span class="block">10.0.42.254</span>'),
        ("10.176.230.0/24", "", "overlaps ServiceNet 10.176.224.0/19"),
        ("10.0.0.0/24", "", "overlaps network &quot;taken&quot;"),
        ("10.0.42.7/24", "", "has host bits set: did you mean 10.0.42.0/24?"),
        ("192.168.1.0/24", "", "is outside the cluster&#x27;s address pool"),
        ("nonsense", "", "is not a subnet in CIDR notation"),
        ("10.0.42.0/24", "10.0.43.1", "Gateway 10.0.43.1 is outside the subnet 10.0.42.0/24"),
    ],
)
def test_a_custom_subnet_is_checked_inline_without_holding_it(client, team, subnet, gateway, expected):
    make_network(team, "taken", subnet="10.0.0.0/24")
    client.force_login(team.member)
    before = SubnetAllocation.objects.count()
    response = client.get(
        "/networks/new/preview/",
        {"cluster": team.cluster.pk, "prefixlen": 24, "subnet": subnet, "gateway": gateway},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert SubnetAllocation.objects.count() == before


def test_create_records_the_network_and_its_operation(client, team, django_capture_on_commit_callbacks):
    client.force_login(team.member)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/networks/new/",
            {"cluster": team.cluster.pk, "name": "mynetwork", "prefixlen": 24, "labels": "team=web\n"},
        )
    network = Network.objects.get(name="mynetwork")
    assert response.status_code == 302 and response["Location"] == f"/networks/{network.pk}/"
    assert network.status == Network.Status.CREATING and network.labels == {"team": "web"}
    assert network.created_by == team.member
    assert network.operations.get().kind == Operation.Kind.NETWORK_CREATE
    assert len(callbacks) == 1  # the task is sent once the transaction commits


@pytest.mark.parametrize(
    ("data", "field_value", "sentence"),
    [
        ({"name": "taken"}, 'value="taken"', "A network named &quot;taken&quot; already exists"),
        ({"name": "fresh", "subnet": "10.176.224.0/24"}, 'value="10.176.224.0/24"', "overlaps ServiceNet"),
        ({"name": "bridge"}, 'value="bridge"', "one of Docker&#x27;s predefined networks"),
        ({"name": "fresh", "labels": "no equals sign"}, "no equals sign</textarea>", "is not KEY=VALUE"),
        ({"name": "fresh", "labels": "overlay-portal.cluster=x"}, "overlay-portal.cluster=x", "belong to the portal"),
    ],
)
def test_a_refused_create_keeps_what_was_typed(client, team, data, field_value, sentence):
    make_network(team, "taken")
    client.force_login(team.member)
    before = Network.objects.count()
    response = client.post("/networks/new/", {"cluster": team.cluster.pk, "prefixlen": 24, **data})
    page = response.content.decode()
    assert response.status_code in (400, 409)
    assert sentence in page and field_value in page
    assert Network.objects.count() == before


def test_viewers_get_no_create_button_and_a_crafted_create_is_refused(client, team):
    client.force_login(team.viewer)
    assert "Create network" not in client.get("/networks/").content.decode()
    assert client.get("/networks/new/").status_code == 403
    assert client.get(f"/networks/new/preview/?cluster={team.cluster.pk}").status_code == 403
    response = client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "sneaky", "prefixlen": 24})
    assert response.status_code == 403 and b"read-only" in response.content
    assert not Network.objects.filter(name="sneaky").exists()


def test_create_on_another_teams_cluster_is_refused(client, team, other_team):
    client.force_login(team.member)
    response = client.post("/networks/new/", {"cluster": other_team.cluster.pk, "name": "x", "prefixlen": 24})
    assert response.status_code == 400
    assert (
        "That cluster cannot be picked (removed since the page was shown, or not your team&#x27;s): pick one from "
        "the list." in response.content.decode()
    )
    assert not Network.objects.filter(name="x").exists()


def test_detail_shows_the_network_its_containers_and_operations(client, team):
    web = make_network(team, "web", labels={"team": "payments"})
    make_container(team, "db", networks=[web])
    make_operation(team, target="web", network=web, status=Operation.Status.SUCCEEDED)
    client.force_login(team.viewer)
    page = client.get(f"/networks/{web.pk}/").content.decode()
    assert web.subnet in page and web.gateway in page and "team=payments" in page
    assert ">db</a>" in page and "Create network</a>" in page
    # the live inspect view is fetched after the page, from a worker
    assert f'hx-get="/networks/{web.pk}/inspect/" hx-trigger="load' in page
    # a viewer sees no button that would be refused
    for label in ("Disconnect", "Connect</button>", "Remove network"):
        assert label not in page


def test_another_teams_network_is_a_404_everywhere(client, team, other_team):
    theirs = make_network(other_team, "theirs")
    container = make_container(team, "mine")
    client.force_login(team.owner)
    for url in (f"/networks/{theirs.pk}/", f"/networks/{theirs.pk}/status/", f"/networks/{theirs.pk}/inspect/"):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/networks/{theirs.pk}/connect/",
        f"/networks/{theirs.pk}/remove/",
        f"/networks/{theirs.pk}/disconnect/{container.pk}/",
    ):
        assert client.post(url, {"container": container.pk}).status_code == 404, url
    assert Network.objects.get(pk=theirs.pk).status == Network.Status.ACTIVE


def test_the_status_polls_while_work_runs_and_stops_when_it_is_done(client, team):
    network = make_network(team, "fresh", status=Network.Status.CREATING)
    operation = make_operation(team, target="fresh", network=network, status=Operation.Status.RUNNING)
    client.force_login(team.viewer)
    page = client.get(f"/networks/{network.pk}/").content.decode()
    assert f'hx-get="/networks/{network.pk}/status/" hx-trigger="load, live-again' in page  # a long poll

    response = client.get(f"/networks/{network.pk}/status/", headers=HTMX)
    assert b'hx-trigger="load, live-again' in response.content and "HX-Trigger" not in response
    assert b"Running." in response.content

    Network.objects.filter(pk=network.pk).update(status=Network.Status.ACTIVE)
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.SUCCEEDED)
    response = client.get(f"/networks/{network.pk}/status/", headers=HTMX)
    assert b"spinner" not in response.content and b'data-status="active"' in response.content
    assert response["HX-Trigger"] == "network-settled"  # the other parts of the page reload once


def test_the_list_refreshes_itself_while_a_row_is_changing_and_only_swaps_what_changed(client, team):
    import re

    make_network(team, "steady")
    fresh = make_network(team, "fresh", status=Network.Status.CREATING)
    client.force_login(team.viewer)
    page = client.get("/networks/?q=e").content.decode()
    poll = re.search(r'hx-get="([^"]+)" hx-headers=\'\{"X-Seen-Version": "(\w+)"\}\' hx-trigger="every 2s"', page)
    assert poll, "a list with a network being created asks for itself again"
    url, version = poll.groups()
    assert url == "/networks/?q=e", "the poll keeps the filters"
    results = {**HTMX, "HX-Target": "results"}

    # Nothing changed: 204, so htmx swaps nothing (and screen readers hear nothing).
    assert client.get(url, headers={**results, "X-Seen-Version": version}).status_code == 204

    Network.objects.filter(pk=fresh.pk).update(status=Network.Status.ACTIVE)
    response = client.get(url, headers={**results, "X-Seen-Version": version})
    assert response.status_code == 200 and b"<html" not in response.content
    assert b"st-active" in response.content and b"st-creating" not in response.content
    assert b"every 2s" not in response.content and b"every 10s" in response.content, "settled: it asks less often"


def test_the_list_refreshes_while_an_operation_on_a_row_is_unfinished(client, team):
    network = make_network(team, "web")
    client.force_login(team.viewer)
    assert b"every 2s" not in client.get("/networks/").content
    make_operation(team, Operation.Kind.NETWORK_CONNECT, target="web", network=network)
    assert b"every 2s" in client.get("/networks/").content


def test_a_settled_network_page_answers_when_a_container_joins(client, team, monkeypatch):
    import re

    monkeypatch.setattr("plumbing.live.LONG_POLL_SECONDS", 0.3)
    network = make_network(team, "web")
    client.force_login(team.viewer)
    page = client.get(f"/networks/{network.pk}/").content.decode()
    version = re.search(r'"X-Seen-Version": "(\w+)"', page).group(1)
    watching = {**HTMX, "X-Seen-Version": version}
    unchanged = client.get(f"/networks/{network.pk}/status/", headers=watching)
    assert unchanged.status_code == 204 and unchanged["HX-Trigger"] == "live-again"  # held, then asked again
    make_container(team, "db", networks=[network])
    response = client.get(f"/networks/{network.pk}/status/", headers=watching)
    assert response.status_code == 200 and response["HX-Trigger"] == "network-settled"


def test_a_failed_network_shows_its_error_sentence(client, team):
    network = make_network(team, "broken", status=Network.Status.FAILED)
    make_operation(
        team, target="broken", network=network, status=Operation.Status.FAILED, error="The cluster said no. Try again."
    )
    client.force_login(team.viewer)
    assert b"The cluster said no. Try again." in client.get(f"/networks/{network.pk}/").content


def test_inspect_waits_for_an_active_network(client, team):
    network = make_network(team, "fresh", status=Network.Status.CREATING)
    client.force_login(team.viewer)
    response = client.get(f"/networks/{network.pk}/inspect/", headers=HTMX)
    assert b"appears once the network is active" in response.content


def test_connect_records_an_endpoint_and_an_operation(client, team):
    web = make_network(team, "web")
    db = make_container(team, "db")
    client.force_login(team.member)
    response = client.post(f"/networks/{web.pk}/connect/", {"container": db.pk, "aliases": "mysql, database"})
    assert response.status_code == 302
    endpoint = Endpoint.objects.get(network=web, container=db)
    assert endpoint.aliases == ["mysql", "database"]
    assert Operation.objects.get(kind=Operation.Kind.NETWORK_CONNECT).target == "db to web"


def test_a_refused_connect_keeps_what_was_typed(client, team):
    web = make_network(team, "web", subnet="10.0.7.0/24")
    db = make_container(team, "db")
    client.force_login(team.member)
    response = client.post(
        f"/networks/{web.pk}/connect/", {"container": db.pk, "aliases": "mysql", "ip_address": "10.0.8.5"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Address 10.0.8.5 is outside the subnet 10.0.7.0/24" in page
    assert 'value="10.0.8.5"' in page and 'value="mysql"' in page
    assert f'<option value="{db.pk}" selected>' in page
    assert not Endpoint.objects.exists()


def test_connect_offers_only_this_clusters_containers_not_yet_on_it(client, team, other_team):
    web = make_network(team, "web")
    make_container(team, "on-it", networks=[web])
    make_container(team, "free")
    theirs = make_container(other_team, "theirs")
    client.force_login(team.member)
    page = client.get(f"/networks/{web.pk}/").content.decode()
    assert ">free</option>" in page and ">on-it</option>" not in page and "theirs" not in page
    response = client.post(f"/networks/{web.pk}/connect/", {"container": theirs.pk})
    assert response.status_code == 400 and b"That container cannot be picked (removed since" in response.content


def test_with_nothing_to_connect_the_page_says_why_and_links_a_run_on_this_network(client, team, other_team):
    web = make_network(team, "web")
    make_container(other_team, "theirs")  # another team's container on the shared swarm counts for nothing
    client.force_login(team.member)
    page = client.get(f"/networks/{web.pk}/").content.decode()
    assert "Your team has no container on cluster" in page and "already on it" not in page
    assert f'href="/containers/run/?network={web.pk}"' in page

    make_container(team, "on-it", networks=[web])
    page = client.get(f"/networks/{web.pk}/").content.decode()
    assert "Every container of your team on cluster" in page and "has no container" not in page


def test_disconnect_and_remove(client, team):
    web = make_network(team, "web")
    db = make_container(team, "db", networks=[web])
    client.force_login(team.member)
    response = client.post(f"/networks/{web.pk}/remove/", follow=True)
    assert "1 container is still attached: db" in response.content.decode()
    assert Network.objects.get(pk=web.pk).status == Network.Status.ACTIVE

    response = client.post(f"/networks/{web.pk}/disconnect/{db.pk}/", follow=True)
    assert b"Disconnecting db from web" in response.content
    assert Operation.objects.filter(kind=Operation.Kind.NETWORK_DISCONNECT).count() == 1

    response = client.post(f"/networks/{web.pk}/remove/", {"disconnect": "on"}, follow=True)
    assert b"Removing network web" in response.content
    assert Network.objects.get(pk=web.pk).status == Network.Status.REMOVING


def test_viewers_cannot_connect_disconnect_or_remove(client, team):
    web = make_network(team, "web")
    db = make_container(team, "db", networks=[web])
    other = make_container(team, "other")
    client.force_login(team.viewer)
    assert client.post(f"/networks/{web.pk}/connect/", {"container": other.pk}).status_code == 403
    assert client.post(f"/networks/{web.pk}/disconnect/{db.pk}/").status_code == 403
    assert client.post(f"/networks/{web.pk}/remove/", {"disconnect": "on"}).status_code == 403
    assert not Operation.objects.exists()


def test_networks_made_outside_the_portal_are_no_teams_and_only_held_blocks(client, team):
    ingress = make_network(team, "ingress", is_external=True, tenant=None)
    client.force_login(team.owner)
    assert client.get(f"/networks/{ingress.pk}/").status_code == 404
    assert client.post(f"/networks/{ingress.pk}/remove/").status_code == 404
    assert "ingress" not in client.get("/networks/").content.decode()
    assert "<title>10.0.0.0/24: held outside the portal</title>" in client.get("/map/").content.decode()


def test_reverse_names_are_stable():
    assert reverse("networks:network_list") == "/networks/"
    assert reverse("networks:network_detail", args=[3]) == "/networks/3/"


@pytest.mark.parametrize("prefixlen", ["0", "33", "64", "99", "-1", "9" * 40, "²"])
def test_a_size_outside_the_range_is_refused_on_the_form(client, team, prefixlen):
    client.force_login(team.member)
    response = client.post("/networks/new/", {"cluster": team.cluster.pk, "name": "ok", "prefixlen": prefixlen})
    assert response.status_code == 400
    assert "Pick a size from /16 to /29, such as /24." in response.content.decode()
    assert not Network.objects.filter(name="ok").exists()


@pytest.mark.parametrize("prefixlen", ["0", "33", "64", "99", "15", "9" * 40])
def test_the_preview_states_the_range(client, team, prefixlen):
    client.force_login(team.member)
    response = client.get(f"/networks/new/preview/?cluster={team.cluster.pk}&prefixlen={prefixlen}", headers=HTMX)
    assert response.status_code == 200
    assert "is from /16 to /29" in response.content.decode()


def test_a_label_docker_would_not_take_is_refused_on_the_form(client, team):
    client.force_login(team.member)
    data = {"cluster": team.cluster.pk, "name": "ok", "prefixlen": 24, "labels": "k" * 100_000 + "=v"}
    response = client.post("/networks/new/", data)
    assert response.status_code == 400 and "use at most 128" in response.content.decode()
    assert not Network.objects.filter(name="ok").exists()


def test_a_refused_create_opens_with_a_summary_linking_to_the_field_marked_invalid(client, team):
    client.force_login(team.member)
    data = {"cluster": team.cluster.pk, "prefixlen": 24, "name": "", "labels": "no equals sign"}
    page = client.post("/networks/new/", data).content.decode()
    assert error_summary_of(page) == [
        ("#id_name", "Name: This field is required."),
        ("#id_labels", 'Labels: Line 1, "no equals sign", is not KEY=VALUE, such as team=payments.'),
    ]
    labels = tag_with_id(page, "id_labels")
    assert labels["aria-invalid"] == "true"
    assert labels["aria-describedby"].split() == ["id_labels_helptext", "id_labels_error"]
    assert "aria-invalid" not in tag_with_id(page, "id_subnet")


def test_a_refused_connect_on_the_network_page_opens_with_its_summary(client, team):
    make_network(team, "web")
    make_container(team, "db")
    network = Network.objects.get(name="web")
    client.force_login(team.member)
    response = client.post(f"/networks/{network.pk}/connect/", {"container": "", "aliases": "a"})
    summary = error_summary_of(response.content.decode())
    assert summary == [("#id_container", "Container: This field is required.")]


def test_a_name_over_its_limit_is_refused_naming_the_limit_never_cut(client, team):
    # The box had maxlength="63": a browser cut a pasted 300-character name to 63 and the network was made.
    client.force_login(team.member)
    assert "maxlength" not in client.get("/networks/new/").content.decode()
    response = client.post("/networks/new/", {"cluster": team.cluster.pk, "prefixlen": 24, "name": "n" * 300})
    assert response.status_code == 400
    assert "This field takes at most 63 characters (it has 300)." in response.content.decode()
    assert not Network.objects.filter(name__startswith="nnn").exists()


def test_each_alias_of_a_connect_is_checked_whole_with_its_own_sentence(client, team):
    # "bad alias!" was split at the space and "alias!" called "not a valid network name".
    web = make_network(team, "web")
    db = make_container(team, "db")
    client.force_login(team.member)
    response = client.post(f"/networks/{web.pk}/connect/", {"container": db.pk, "aliases": "mysql, bad alias!"})
    assert response.status_code == 400
    assert (
        "Alias “bad alias!” is not a valid DNS name: use letters, digits, hyphens and underscores, in labels of at "
        "most 63 characters separated by periods and 253 in all, such as db or db.internal. Separate aliases with "
        "commas."
    ) in response.content.decode()
    assert not Endpoint.objects.filter(network=web).exists()


def test_the_create_form_takes_docker_s_other_options(client, team, django_capture_on_commit_callbacks):
    client.force_login(team.member)
    data = {"cluster": team.cluster.pk, "name": "edge-net", "prefixlen": 24, "subnet": "10.0.42.0/24"}
    data |= {"ip_range": "10.0.42.128/25", "aux_addresses": "router=10.0.42.2\n\nfirewall = 10.0.42.3\n"}
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/networks/new/", {**data, "mtu": "1400"})
    network = Network.objects.get(name="edge-net")
    assert response.status_code == 302
    assert (network.ip_range, network.mtu, network.attachable) == ("10.0.42.128/25", 1400, True)
    assert network.aux_addresses == {"router": "10.0.42.2", "firewall": "10.0.42.3"}
    page = client.get(f"/networks/{network.pk}/").content.decode()
    assert "10.0.42.128/25" in page and "<code>router=10.0.42.2</code>" in page and "containers get 1350" in page
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            "/networks/new/",
            {
                **data,
                "name": "svc",
                "subnet": "10.0.43.0/24",
                "ip_range": "",
                "aux_addresses": "",
                "services_only": "on",
            },
        )
    services_only = Network.objects.get(name="svc")
    assert services_only.attachable is False
    Network.objects.filter(pk=services_only.pk).update(status=Network.Status.ACTIVE)
    page = client.get(f"/networks/{services_only.pk}/").content.decode()
    assert "This network is not attachable: only swarm services can join it" in page


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        ({"name": "my.net"}, "the swarm takes names as DNS labels"),
        ({"name": "fresh", "mtu": "abc"}, "MTU is a whole number of bytes, such as 1450"),
        ({"name": "fresh", "mtu": "50"}, "MTU is a whole number of bytes from 68 to 9000"),
        ({"name": "fresh", "ip_range": "10.0.42.128/25"}, "An IP range is part of a subnet: give the subnet too"),
        ({"name": "fresh", "subnet": "10.0.42.0/24", "aux_addresses": "router"}, "is not NAME=ADDRESS"),
        (
            {"name": "fresh", "subnet": "10.0.42.0/24", "aux_addresses": "router=10.0.42.2\nrouter=10.0.42.3"},
            "The name router is given twice.",
        ),
        (
            {"name": "fresh", "subnet": "10.0.42.0/24", "aux_addresses": "router=10.0.42.2"},
            "only the range keeps Docker from handing them out",
        ),
    ],
)
def test_bad_create_options_are_refused_on_the_page(client, team, data, sentence):
    client.force_login(team.member)
    before = Network.objects.count()
    response = client.post("/networks/new/", {"cluster": team.cluster.pk, "prefixlen": 24, **data})
    assert response.status_code == 400
    assert sentence in response.content.decode()
    assert Network.objects.count() == before


def test_the_create_form_offers_the_next_free_blocks_of_the_size(client, team):
    make_network(team, "first")  # 10.0.0.0/24
    client.force_login(team.member)
    page = client.get(f"/networks/new/preview/?cluster={team.cluster.pk}&prefixlen=26", headers=HTMX).content.decode()
    offered = [f'data-fill-subnet="10.0.1.{n}/26"' for n in (0, 64, 128, 192)]
    assert all(button in page for button in offered) and "The next free /26 blocks" in page
    assert page.count("data-fill-subnet=") == 8
