"""The admin pages the portal customises, as staff see them in a real chromium: the cluster page fits a
1366 px screen and shows what the swarm reports about its nodes read-only, and every input has a name."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from networks.models import Node
from tests.browser.conftest import login
from tests.factories import PASSWORD, make_network, make_staff, make_team

pytestmark = [pytest.mark.browser]

# The visible controls of the admin's form that nothing names: no <label for>, no aria-label (what axe's
# label and select-name rules report). select2 draws a combobox and a textbox for each autocomplete field.
UNNAMED = """() => [...document.querySelectorAll(
    "#content-main input:not([type=hidden]):not([type=submit]):not([type=button]), #content-main select, #content-main textarea, "
    + "#content-main [role=combobox], #content-main [role=textbox]")]
  .filter((el) => el.offsetParent !== null && !el.closest(".empty-form"))
  .filter((el) => !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") && el.textContent.trim()
    || el.id && document.querySelector(`label[for="${el.id}"]`) || el.closest("label")))
  .map((el) => el.name || el.id || el.outerHTML.slice(0, 80))"""


@pytest.fixture
def staff_page(open_page, transactional_db):
    """A staff member's page at 1366 px, and a cluster with a team, a network and two nodes as a health
    check left them."""
    team = make_team()
    make_network(team, "web")
    Node.objects.filter(cluster=team.cluster, name="node1").update(
        listening_ports=[[22, "tcp"], [53, "udp"]],
        last_seen=timezone.now() - datetime.timedelta(minutes=2),
        consul_container="op-consul-node1",
    )
    staff = make_staff("root")
    page = login(open_page(1366), staff.username, PASSWORD)
    return page, team


def test_the_cluster_page_fits_1366_px_and_shows_node_runtime_read_only(staff_page):
    page, team = staff_page
    page.goto(f"/admin/networks/cluster/{team.cluster.pk}/change/")
    nodes = page.locator("#nodes-group")
    expect(nodes).to_contain_text("as the swarm reports them")
    assert page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [1366, 1366]

    # nothing of a node is a field: no state, last seen or raw JSON port list to edit, no row to add or delete
    expect(nodes.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
    expect(nodes.get_by_text("Add another Node")).to_be_hidden()
    node1 = nodes.locator("tr", has_text="node1")
    expect(node1).to_contain_text("22/tcp, 53/udp")
    expect(node1).to_contain_text("Ready")
    expect(node1).to_contain_text("op-consul-node1")
    expect(node1).not_to_contain_text('[[22, "tcp"]')
    assert page.evaluate(UNNAMED) == []  # the grants' and reserved ranges' cells are named by column and row
    expect(page.locator("#id_grants-0-max_networks")).to_have_attribute(
        "aria-label", f"Max networks: {team.cluster.grants.get()}"
    )

    # the page still saves: the read-only rows are left as the swarm reported them
    page.locator("#id_grants-0-max_networks").fill("7")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert team.cluster.grants.get().max_networks == 7
    node = Node.objects.get(cluster=team.cluster, name="node1")
    assert node.listening_ports == [[22, "tcp"], [53, "udp"]] and node.state == Node.State.READY


def test_every_input_of_the_customised_admin_pages_has_a_name(staff_page):
    page, team = staff_page
    node = Node.objects.get(cluster=team.cluster, name="node1")
    for url in (
        f"/admin/networks/cluster/{team.cluster.pk}/change/",
        f"/admin/networks/node/{node.pk}/change/",
        f"/admin/portal/tenant/{team.tenant.pk}/change/",
        f"/admin/auth/user/{team.owner.pk}/change/",
        "/admin/portal/apitoken/add/",
        "/admin/portal/membership/add/",
    ):
        page.goto(url)
        page.wait_for_load_state("load")
        expect(page.locator("#content-main")).to_be_visible()
        page.wait_for_function("document.readyState === 'complete'")
        expect(
            page.locator("#content-main select.admin-autocomplete + .select2 [role=combobox]:not([aria-label])")
        ).to_have_count(0)
        assert page.evaluate(UNNAMED) == [], url
    page.goto(f"/admin/auth/user/{team.owner.pk}/change/")
    expect(page.locator("#id_last_login_0")).to_have_attribute("aria-label", "Last login: date")


def test_on_a_phone_the_nodes_table_scrolls_in_a_box_the_keyboard_reaches(open_page, transactional_db):
    team = make_team()
    staff = make_staff("root")
    page = login(open_page(390), staff.username, PASSWORD)
    page.goto(f"/admin/networks/cluster/{team.cluster.pk}/change/")
    nodes = page.locator("#nodes-group")
    expect(nodes).to_have_attribute("tabindex", "0")  # read-only rows: nothing else in it takes focus
    expect(nodes).to_have_attribute("role", "region")
    expect(page.locator("#reserved_ranges-group")).not_to_have_attribute("tabindex", "0")  # its inputs do
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(nodes).not_to_have_attribute("tabindex", "0")  # it fits: no extra Tab stop
