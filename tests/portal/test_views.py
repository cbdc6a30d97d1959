"""The portal's own pages: login, dashboard, team switcher, members."""

import pytest
from django.urls import reverse

from networks.models import Container, Operation
from portal.models import Membership
from portal.services import membership_set
from tests.factories import make_container, make_network, make_operation, make_system_container, make_team, make_user
from tests.pages import error_summary_of, tag_with_id

pytestmark = pytest.mark.django_db


def test_pages_need_a_login(client):
    for url in ("/", "/networks/", "/containers/", "/operations/", "/map/", "/topology/", "/members/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_login_and_logout(client, team):
    response = client.post("/login/", {"username": team.owner.username, "password": "portal-test-pw"}, follow=True)
    assert response.status_code == 200 and team.tenant.name.encode() in response.content
    response = client.post("/login/", {"username": team.owner.username, "password": "wrong"})
    assert b"didn&#x27;t match" in response.content and b'value="' + team.owner.username.encode() in response.content
    client.force_login(team.owner)
    response = client.post("/logout/")
    assert response.status_code == 302 and client.get("/").status_code == 302


def test_a_user_in_no_team_is_told_whom_to_ask(client):
    client.force_login(make_user("loner"))
    response = client.get("/")
    assert response.status_code == 403
    assert b"You are not in a team yet" in response.content


def test_dashboard_shows_health_counts_exposure_and_recent_operations(client, team):
    web = make_network(team, "web")
    make_container(team, "db", networks=[web])
    make_container(
        team,
        "site",
        networks=[web],
        ports=[{"host": 80, "container": 80, "protocol": "tcp"}],
        published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "80"}],
    )
    make_container(team, "old", status=Container.Status.REMOVED)
    make_operation(team, target="web", status=Operation.Status.SUCCEEDED, network=web)
    make_operation(team, target="broken", status=Operation.Status.FAILED, error="Pick another name.")
    client.force_login(team.viewer)

    page = client.get("/").content.decode()
    assert "Nodes ready 2/2" in page
    assert "Consul: not checked yet" in page  # no worker has synced the agents' containers yet
    assert '<span class="number">1</span><span class="what">overlay network' in page
    assert '<span class="number">2</span><span class="what">containers' in page
    assert f"{team.node().address}:80 -&gt; 80/tcp" in page
    assert "Pick another name." in page  # a failed operation shows its sentence

    make_system_container(team, "node1")
    make_system_container(team, "node2", running=False)
    page = client.get("/").content.decode()
    assert "Consul down · 1/2 agents" in page and "Needs attention" in page


def test_the_dashboard_keeps_itself_current(client, team):
    import re

    client.force_login(team.member)  # a member's cluster cards carry a form (and its CSRF token)
    page = client.get("/").content.decode()
    assert "csrfmiddlewaretoken" in page
    version = re.search(r'class="live-watch" hx-get="/" hx-headers=\'\{"X-Seen-Version": "(\w+)"', page).group(1)
    watching = {"HX-Request": "true", "HX-Target": "live", "X-Seen-Version": version}
    assert client.get("/", headers=watching).status_code == 204, "a fresh CSRF token is not news"

    make_container(team, "web", published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "80"}])
    response = client.get("/", headers=watching)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "⚠ 192.168." in body, "the newly exposed container is highlighted without a reload"


def test_the_dashboard_is_the_current_teams_only(client, team, other_team):
    make_network(team, "ours")
    make_network(other_team, "theirs")
    make_container(
        other_team, "their-site", published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "80"}]
    )
    client.force_login(team.owner)
    page = client.get("/").content.decode()
    assert "their-site" not in page and other_team.tenant.name not in page


def test_viewers_see_no_change_buttons_members_do(client, team):
    client.force_login(team.viewer)
    page = client.get("/").content.decode()
    for label in ("Create network", "Run container", "Refresh health"):
        assert label not in page
    client.force_login(team.member)
    page = client.get("/").content.decode()
    for label in ("Create network", "Run container", "Refresh health"):
        assert label in page


def test_refresh_health_enqueues_after_commit_and_viewers_are_refused(client, team, django_capture_on_commit_callbacks):
    url = reverse("networks:cluster_refresh_health", args=[team.cluster.pk])
    client.force_login(team.viewer)
    assert client.post(url).status_code == 403
    client.force_login(team.member)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, headers={"HX-Request": "true", "HX-Target": f"cluster-{team.cluster.pk}"})
    assert response.status_code == 200 and len(callbacks) == 1
    assert b"Asking the cluster" in response.content and b"?since=" in response.content


def test_another_teams_cluster_is_a_404(client, team, other_team):
    client.force_login(team.owner)
    assert client.get(reverse("networks:cluster_health", args=[other_team.cluster.pk])).status_code == 404
    assert client.post(reverse("networks:cluster_refresh_health", args=[other_team.cluster.pk])).status_code == 404


def test_the_team_switcher(client, team, other_team):
    membership_set(tenant=other_team.tenant, user=team.owner, role=Membership.Role.VIEWER)
    make_network(other_team, "theirs")
    client.force_login(team.owner)
    client.post("/tenant/switch/", {"tenant": team.tenant.pk})
    page = client.get("/networks/").content.decode()
    assert 'id="tenant-switch"' in page and "theirs" not in page

    response = client.post("/tenant/switch/", {"tenant": other_team.tenant.pk, "next": "/networks/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/networks/"
    page = client.get("/networks/").content.decode()
    assert "theirs" in page and "Create network" not in page  # a viewer there

    # A detail page of the team just left would be a 404: the switch lands on the dashboard.
    ours = make_network(team, "ours")
    response = client.post("/tenant/switch/", {"tenant": team.tenant.pk, "next": f"/networks/{ours.pk}/"})
    assert response["Location"] == "/"
    response = client.post("/tenant/switch/", {"tenant": team.tenant.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_switching_to_a_team_one_is_not_in_is_refused(client, team, other_team):
    client.force_login(team.owner)
    assert client.post("/tenant/switch/", {"tenant": other_team.tenant.pk}).status_code == 403
    assert client.post("/tenant/switch/", {"tenant": "nonsense"}).status_code == 403


def test_owners_add_members_change_roles_and_remove_them(client, team):
    newcomer = make_user("newcomer")
    client.force_login(team.owner)
    response = client.post("/members/", {"username": "newcomer", "role": "viewer"})
    assert response.status_code == 302
    membership = Membership.objects.get(tenant=team.tenant, user=newcomer)
    assert membership.role == "viewer"

    response = client.post(f"/members/{membership.pk}/", {"action": "role", "role": "member"}, follow=True)
    membership.refresh_from_db()
    assert membership.role == "member" and b"newcomer is now member" in response.content

    client.post(f"/members/{membership.pk}/", {"action": "remove"})
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_refused_add_keeps_what_was_typed(client, team):
    client.force_login(team.owner)
    response = client.post("/members/", {"username": "nobody-like-that", "role": "viewer"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="nobody-like-that"' in page and "There is no user named" in page
    assert '<option value="viewer" selected>' in page

    response = client.post("/members/", {"username": team.member.username, "role": "owner"})
    assert response.status_code == 409 and "already a member" in response.content.decode()


def test_the_last_owner_cannot_leave_or_be_demoted(client, team):
    client.force_login(team.owner)
    mine = Membership.objects.get(tenant=team.tenant, user=team.owner)
    response = client.post(f"/members/{mine.pk}/", {"action": "role", "role": "viewer"}, follow=True)
    assert "last owner" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == "owner"


def test_members_and_viewers_read_the_member_list_but_cannot_change_it(client, team):
    target = Membership.objects.get(tenant=team.tenant, user=team.viewer)
    for user in (team.member, team.viewer):
        client.force_login(user)
        page = client.get("/members/").content.decode()
        assert team.owner.username in page and "Add member" not in page and "Change role" not in page
        assert client.post("/members/", {"username": "x", "role": "viewer"}).status_code == 403
        assert client.post(f"/members/{target.pk}/", {"action": "remove"}).status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()


def test_another_teams_membership_is_a_404(client, team, other_team):
    theirs = Membership.objects.get(tenant=other_team.tenant, user=other_team.viewer)
    client.force_login(team.owner)
    assert client.post(f"/members/{theirs.pk}/", {"action": "remove"}).status_code == 404


def test_pages_are_accessible_by_construction(client, team):
    """Every page has one h1, a skip link, a labelled main navigation, unique ids and labels for its inputs."""
    import re

    web = make_network(team, "web")
    db = make_container(team, "db", networks=[web])
    client.force_login(team.owner)
    pages = ["/", "/networks/", "/networks/new/", f"/networks/{web.pk}/", "/containers/", "/containers/run/"]
    pages += [f"/containers/{db.pk}/", "/operations/", "/members/", "/map/", "/topology/"]
    for url in pages:
        page = client.get(url).content.decode()
        assert page.count("<h1") == 1, url
        ids = re.findall(r' id="([^"]+)"', page)
        assert len(ids) == len(set(ids)), f"{url}: repeated ids {sorted({i for i in ids if ids.count(i) > 1})}"
        assert 'class="skip-link" href="#main"' in page and 'aria-label="Main"' in page
        ids = set(re.findall(r'<label[^>]* for="([^"]+)"', page))
        for input_id in re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|submit)")[^>]* id="([^"]+)"', page
        ):
            if "__prefix__" in input_id:
                continue
            assert input_id in ids, f"{url}: #{input_id} has no label"


def test_the_api_tokens_page_is_linked_when_it_exists(client, team):
    client.force_login(team.owner)
    assert b">API tokens</a>" in client.get("/").content


@pytest.mark.parametrize(
    "name, sentence",
    [
        ("ci\x00", "This field contains a NUL character (\\x00), which the portal cannot store. Remove it."),
        ("t" * 101, "This field takes at most 100 characters (it has 101)."),
        ("  ", "Name the token after what will use it, such as cli."),
    ],
)
def test_a_token_name_that_cannot_be_stored_is_refused_with_a_sentence(client, team, name, sentence):
    # A NUL was a DataError, a 500.
    client.force_login(team.owner)
    response = client.post("/tokens/", {"action": "create", "name": name})
    assert response.status_code == 400 and sentence in response.content.decode()
    assert not team.owner.api_tokens.exists()


def test_a_token_name_over_its_limit_is_refused_naming_the_limit_never_cut(client, team):
    # The box had maxlength="100": a browser cut a longer pasted name to 100 and made the token.
    client.force_login(team.owner)
    assert "maxlength" not in client.get("/tokens/").content.decode()
    response = client.post("/tokens/", {"action": "create", "name": "t" * 300})
    assert response.status_code == 400
    assert "This field takes at most 100 characters (it has 300)." in response.content.decode()
    assert not team.owner.api_tokens.exists()


def test_a_second_team_of_an_owner_is_listed_in_the_switcher(client):
    first, second = make_team("Alpha"), make_team("Beta")
    membership_set(tenant=second.tenant, user=first.owner, role=Membership.Role.MEMBER)
    client.force_login(first.owner)
    page = client.get("/").content.decode()
    assert "Alpha · Owner" in page and "Beta · Member" in page


def test_after_a_refresh_the_card_asks_again_until_the_worker_has_answered(client, team):
    import time

    from django.utils import timezone

    from networks.models import Node

    client.force_login(team.member)
    asked = time.time()
    url = reverse("networks:cluster_health", args=[team.cluster.pk])
    response = client.get(f"{url}?since={asked}")
    assert b"Asking the cluster" in response.content and b"?since=" in response.content
    Node.objects.filter(cluster=team.cluster).update(last_seen=timezone.now())
    response = client.get(f"{url}?since={asked}")
    assert b"Asking the cluster" not in response.content and b"?since=" not in response.content
    response = client.get(f"{url}?since={asked - 3600}")  # long ago: stop asking
    assert b"?since=" not in response.content


def test_a_page_left_open_after_logout_sends_its_polls_to_the_login_page(client, team):
    operation = make_operation(team, status=Operation.Status.RUNNING)
    response = client.get(
        f"/operations/{operation.pk}/row/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/operations/?status=running"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=%2Foperations%2F%3Fstatus%3Drunning"


@pytest.mark.parametrize("tenant", ["999999999999999999999999999999", "²", "-1", "", "abc"])
def test_switching_to_a_tenant_that_cannot_exist_is_a_403_sentence(client, team, tenant):
    client.force_login(team.member)
    response = client.post("/tenant/switch/", {"tenant": tenant})
    assert response.status_code == 403 and b"You are not a member of that tenant." in response.content


def test_a_refused_token_name_is_summed_up_and_marked_on_its_field(client, team):
    client.force_login(team.owner)
    response = client.post("/tokens/", {"action": "create", "name": " "})
    page = response.content.decode()
    assert response.status_code == 400
    assert error_summary_of(page) == [
        ("#id_name", "Name it after what will use it: Name the token after what will use it, such as cli.")
    ]
    field = tag_with_id(page, "id_name")
    assert field["aria-invalid"] == "true" and field["aria-describedby"] == "id_name_error"
    assert "novalidate" in page and 'id="token-error"' not in page


def test_an_empty_login_is_answered_by_the_portal_not_by_the_browser(client, team):
    page = client.get("/login/").content.decode()
    assert '<form method="post" novalidate>' in page and "data-error-summary" not in page
    page = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert error_summary_of(page) == [
        ("#id_username", "Username: Type your username."),
        ("#id_password", "Password: Type your password."),
    ]
    assert tag_with_id(page, "id_username")["aria-describedby"] == "id_username_error"
    assert "autofocus" not in tag_with_id(page, "id_username")  # the summary takes focus instead
    page = client.post("/login/", {"username": team.owner.username, "password": "wrong"}).content.decode()
    assert error_summary_of(page) == [(None, "Your username and password didn't match. Try again.")]
    assert tag_with_id(page, "id_password")["aria-describedby"] == "error-summary"
