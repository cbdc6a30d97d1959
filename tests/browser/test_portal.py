"""The issue's browser scenario: Carina's tutorial clicked through the portal, roles and tenancy.

A real chromium, the live server, the real local cluster and a real Celery worker. Screenshots of
the main pages land in test-artifacts/screenshots/.
"""

import contextlib
import dataclasses
import os
import re

import pytest
from playwright.sync_api import expect

from networks.models import Container, Network
from networks.services.grants import cluster_grant
from networks.services.shares import network_share
from portal.actors import Actor
from portal.models import Membership
from portal.services import membership_set
from tests.browser.conftest import login, screenshot
from tests.factories import PASSWORD, make_network, make_team, make_user
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.browser, pytest.mark.cluster, pytest.mark.worker]

TOOLS = "overlay-portal/tools:latest"
# A host port of its own, so parallel sessions on the shared cluster do not collide.
WEB_PORT = 20000 + os.getpid() % 20000


@contextlib.contextmanager
def worker_paused():
    """Stop the worker taking new tasks for a moment, so the page is seen before the work is done."""
    from portal.celery import app

    assert app.control.cancel_consumer("celery", reply=True, timeout=5), "the worker did not answer"
    try:
        yield
    finally:
        app.control.add_consumer("celery", reply=True, timeout=5)


@pytest.fixture
def alice(tenant_cluster, celery_worker_process):
    """A member of the team that owns the real local cluster."""
    user = make_user(f"alice-{first_team(tenant_cluster).slug}")
    membership_set(tenant=first_team(tenant_cluster), user=user, role=Membership.Role.OWNER)
    return user


def test_the_tutorial_in_a_browser(open_page, alice, tenant_cluster):
    cluster = tenant_cluster
    page = login(open_page(), alice.username, PASSWORD)
    # The dashboard reads health from the database; a worker refreshes it and the card follows.
    card = page.locator(f"#cluster-{cluster.pk}")
    page.get_by_role("button", name="Refresh health").click()
    expect(card).to_contain_text("Nodes ready 2/2", timeout=30_000)
    expect(card).to_contain_text("Consul up · 2/2 agents")
    expect(card.locator(".section-head .badge")).to_have_text("Healthy")

    # $ docker network create mynetwork — the form tells which block it will get before it is sent
    go(page, "Networks")
    page.get_by_role("link", name="Create network").first.click()
    page.wait_for_url(re.compile(r"/networks/new/$"))  # loaded, its scripts too: the preview follows the form
    preview = page.locator("#subnet-preview")
    expect(preview).to_contain_text("will get")
    promised = re.search(r"will get (\S+), gateway (\S+)\.", preview.inner_text())
    page.get_by_label("Name", exact=True).fill("mynetwork")
    page.get_by_role("textbox", name="Custom subnet").fill("10.176.230.0/24")
    expect(preview).to_contain_text("overlaps ServiceNet")  # checked inline, nothing held
    page.get_by_role("textbox", name="Custom subnet").fill("")
    expect(preview).to_contain_text(f"will get {promised.group(1)}")
    screenshot(page, "network_create")

    # Its status turns active in place: the page is never reloaded (the marker survives).
    with worker_paused():
        page.get_by_role("button", name="Create network").click()
        page.wait_for_url(re.compile(r"/networks/\d+/$"))  # not /networks/new/, where it stands
        status = page.locator("#network-status .badge").first
        expect(status).to_have_attribute("data-status", "creating")
        page.evaluate("window.__notReloaded = true")
        # The list in another tab follows too, row by row.
        listing = page.context.new_page()
        listing.goto("/networks/")
        row_status = listing.locator("tr", has=listing.get_by_role("link", name="mynetwork")).locator(".badge").last
        expect(row_status).to_have_text("Creating")
        expect(listing.locator(".live-note")).to_contain_text("updates by itself")
        listing.evaluate("window.__notReloaded = true")
    expect(status).to_have_attribute("data-status", "active", timeout=60_000)
    assert page.evaluate("window.__notReloaded") is True
    expect(row_status).to_have_text("Active", timeout=30_000)
    expect(listing.locator(".live-note")).to_have_count(0)
    assert listing.evaluate("window.__notReloaded") is True
    listing.close()
    network = Network.objects.get(cluster=cluster, name="mynetwork", status=Network.Status.ACTIVE)
    assert network.subnet == promised.group(1) and network.gateway == promised.group(2)
    # the parts of the page that depend on it reload by themselves: Docker's inspect view appears
    expect(page.locator("#inspect-body")).to_contain_text(network.docker_id, timeout=30_000)
    assert page.evaluate("window.__notReloaded") is True

    # $ docker run --name db --net mynetwork (private), with a secret
    run_container(
        page,
        cluster,
        name="db",
        command="sh -c 'while true; do echo ok | nc -l -p 3306; done'",
        env=("MYSQL_ROOT_PASSWORD", "my-root-pw"),
    )
    expect(page.locator("main")).to_contain_text("••••••")
    expect(page.locator("main")).not_to_contain_text("my-root-pw")
    expect(page.locator("#published-ports")).to_contain_text("Private: no port is published")

    # $ docker run --name web --net mynetwork --publish PORT:80 (exposed)
    run_container(
        page,
        cluster,
        name="web",
        command="sh -c 'echo hello-from-web > /tmp/index.html && exec httpd -f -p 80 -h /tmp'",
        ports=f"{WEB_PORT}:80",
        node="node2",
    )
    node2 = cluster.nodes.get(name="node2").address
    expect(page.locator("#published-ports")).to_contain_text(f"{node2}:{WEB_PORT} -> 80/tcp")

    # The exposure badges on the list
    go(page, "Containers")
    web_row = page.locator("tr", has=page.get_by_role("link", name="web", exact=True))
    db_row = page.locator("tr", has=page.get_by_role("link", name="db", exact=True))
    expect(web_row.locator(".badge.exposed")).to_contain_text(f"Exposed: {node2}:{WEB_PORT} -> 80/tcp")
    expect(db_row.locator(".badge.private")).to_have_text("Private")
    screenshot(page, "containers")

    # $ docker port web 80, then a DNS diagnostic from web: db resolves over the overlay, 3306 answers
    page.get_by_role("link", name="web", exact=True).click()
    page.wait_for_url(re.compile(r"/containers/\d+/$"))
    page.get_by_label("Port", exact=True).fill("80")
    page.get_by_role("button", name="Query").click()
    expect(page.locator("#port-answer")).to_contain_text(f"$ docker port web 80\n{node2}:{WEB_PORT}")
    page.get_by_label("Name to look up").fill("db")
    page.get_by_label("TCP port (optional)").fill("3306")
    page.get_by_role("button", name="Run checks").click()
    dns = page.locator('#diagnosis [data-kind="dns"]')
    expect(dns).to_have_attribute("data-ok", "true", timeout=45_000)
    expect(dns).to_contain_text("$ nslookup db")
    expect(page.locator('#diagnosis [data-kind="tcp"]')).to_have_attribute("data-ok", "true")
    screenshot(page, "container_detail")

    # The network's page now lists both containers; the pictures show them
    page.goto(f"/networks/{network.pk}/")
    expect(page.locator("#attachments")).to_contain_text("db")
    expect(page.locator("#attachments")).to_contain_text("web")
    expect(page.locator("#inspect-body")).to_contain_text("web", timeout=30_000)
    screenshot(page, "network_detail")
    page.goto("/networks/")
    screenshot(page, "networks")

    page.goto(f"/map/?cluster={cluster.pk}")
    cell = page.locator("svg.grid a.cell", has=page.locator("title", has_text=f"{network.subnet}: network"))
    expect(cell).to_have_count(1)
    cell.click()
    expect(page.locator("#selected")).to_contain_text('network "mynetwork"')
    screenshot(page, "allocation_map")

    page.goto(f"/topology/?cluster={cluster.pk}")
    expect(page.locator("svg.topology")).to_contain_text("mynetwork")
    expect(page.locator("svg.topology")).to_contain_text(f"⚠ {node2}:{WEB_PORT}")
    screenshot(page, "topology")

    page.goto("/operations/")
    expect(page.locator("#results")).to_contain_text("Run container")
    screenshot(page, "operations")
    page.get_by_role("link", name="Create network").first.click()
    expect(page.locator("#operation-progress")).to_contain_text("Succeeded")
    screenshot(page, "operation_detail")

    phone = login(open_page(width=390, height=844), alice.username, PASSWORD)
    screenshot(phone, "dashboard_phone")
    phone.goto(f"/networks/{network.pk}/")
    screenshot(phone, "network_detail_phone")

    page.goto("/")
    expect(page.locator(".stat.alert")).to_contain_text("exposed to the Internet and ServiceNet")
    screenshot(page, "dashboard")


def go(page, section: str):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=section, exact=True).click()


def run_container(page, cluster, *, name, command, ports="", node="node1", env=None):
    go(page, "Containers")
    page.get_by_role("link", name="Run container").click()
    # loaded: network-picker.js (deferred) has made the list a box to type in
    page.wait_for_url(re.compile(r"/containers/run/$"))
    ports_field = page.get_by_label("Published ports")
    expect(ports_field).to_have_value("")  # private unless asked
    expect(page.locator("#publish-warning")).to_be_visible()
    expect(page.locator("#publish-warning")).to_contain_text("exposes this container to the Internet and to ServiceNet")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Image", exact=True).fill(TOOLS)
    page.get_by_label("Command", exact=True).fill(command)
    page.get_by_role("combobox", name="Add a network").fill("mynetwork")
    page.keyboard.press("Enter")  # the network offered first: mynetwork
    page.get_by_label("Aliases on mynetwork").fill(f"{name}-alias")
    if env:
        page.locator("summary", has_text="Environment variables").click()  # folded while unused
        page.get_by_label("Variable name").first.fill(env[0])
        page.locator("[data-env-row]").first.get_by_label("secret").check()
        value = page.get_by_label("Value", exact=True).first
        expect(value).to_have_attribute("type", "password")  # masked as it is typed
        value.fill(env[1])
    ports_field.fill(ports)
    page.get_by_label("Node", exact=True).select_option(value=f"{cluster.pk}:{node}")
    page.get_by_role("button", name="Run container").click()
    page.wait_for_url(re.compile(r"/containers/\d+/$"))
    expect(page.locator("#container-status .badge")).to_have_attribute("data-status", "running", timeout=60_000)
    container = Container.objects.get(cluster=cluster, name=name)
    assert container.node.name == node
    assert container.endpoints.get().aliases == [f"{name}-alias"]


def test_a_viewer_sees_no_create_button_and_a_crafted_post_is_refused(open_page, transactional_db):
    team = make_team()
    make_network(team, "shared")
    page = login(open_page(), team.viewer.username, PASSWORD)
    page.goto("/networks/")
    expect(page.get_by_role("link", name="shared")).to_be_visible()
    expect(page.get_by_role("link", name="Create network")).to_have_count(0)
    page.goto("/")
    expect(page.get_by_role("link", name="Create network")).to_have_count(0)
    expect(page.get_by_role("button", name="Refresh health")).to_have_count(0)

    # A request crafted in the viewer's own browser, with a valid CSRF token, is still refused.
    status = page.evaluate(
        """async (cluster) => {
            const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken=')).split('=')[1];
            const body = new URLSearchParams({cluster, name: 'sneaky', prefixlen: '24'});
            const response = await fetch('/networks/new/', {method: 'POST', body, headers: {'X-CSRFToken': token}});
            return response.status;
        }""",
        str(team.cluster.pk),
    )
    assert status == 403
    assert not Network.objects.filter(name="sneaky").exists()
    response = page.goto("/networks/new/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("read-only")


def test_a_user_of_one_team_opening_anothers_network_gets_404(open_page, transactional_db):
    team_a, team_b = make_team(), make_team()
    theirs = make_network(team_b, "theirs")
    page = login(open_page(), team_a.owner.username, PASSWORD)
    response = page.goto(f"/networks/{theirs.pk}/")
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("Not found")
    expect(page.locator("main")).not_to_contain_text("theirs")


def test_on_a_shared_cluster_a_member_sees_only_their_teams_networks(open_page, transactional_db):
    team_a, team_b = make_team(), make_team()
    cluster_grant(actor=Actor.system("tests"), cluster=team_a.cluster, tenant=team_b.tenant)
    private = make_network(team_a, "payments-db")
    shared = make_network(team_a, "a-shared")
    network_share(actor=Actor.system("tests"), tenant=team_a.tenant, network=shared, with_tenant=team_b.tenant.slug)
    make_network(dataclasses.replace(team_b, cluster=team_a.cluster), "b-web")
    page = login(open_page(), team_b.member.username, PASSWORD)

    page.goto("/networks/")
    results = page.locator("#results")
    expect(results).to_contain_text("b-web")
    expect(results.locator("tr", has_text="a-shared")).to_contain_text(f"Shared by {team_a.tenant.name}")
    expect(results).not_to_contain_text("payments-db")

    page.goto(f"/topology/?cluster={team_a.cluster.pk}&empty=1")  # no container is on it: drawn when asked
    expect(page.locator("svg.topology")).to_contain_text("a-shared")
    expect(page.locator("main")).not_to_contain_text("payments-db")
    expect(page.locator("main")).not_to_contain_text(private.subnet)

    page.goto(f"/map/?cluster={team_a.cluster.pk}&select={private.subnet}")
    expect(page.locator("#selected")).to_contain_text("held by another team")
    expect(page.locator("main")).not_to_contain_text("payments-db")
    screenshot(page, "shared_cluster_map")


def test_a_container_stopped_on_its_node_turns_exited_on_its_open_page(
    open_page, alice, tenant_cluster, events_follower
):
    """`docker stop` on the node, not in the portal: the follower hears it and the page follows."""
    from networks.engine import docker as docker_engine
    from networks.models import Operation
    from networks.services.containers.run import container_run
    from tests.support import first_team

    cluster = tenant_cluster
    operation = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="cron",
            image=TOOLS,
            command=["sleep", "3600"],
        )
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    cron = operation.container

    page = login(open_page(), alice.username, PASSWORD)
    page.goto(f"/containers/{cron.pk}/")
    status = page.locator("#container-status .badge").first
    expect(status).to_have_attribute("data-status", "running")
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    docker_engine.container_action(cron.node.docker, cron.docker_id, "stop", timeout=0)
    expect(status).to_have_attribute("data-status", "exited", timeout=30_000)
    expect(page.get_by_role("button", name="Start")).to_be_visible()  # the buttons followed too
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True
