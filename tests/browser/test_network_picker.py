"""The run form's network picker in a real chromium: with 1,000 networks in the team, a keyboard user
picks two (typing, the arrows, Enter), reaches *Run container* in under 30 Tabs on a page under two
screens high, and a refusal keeps every network picked with what was typed; without JavaScript the
page's own buttons add and remove networks; on the real cluster a container joins the two networks
picked, with their aliases and a static address."""

import re

import pytest
from playwright.sync_api import expect

from networks.engine import docker as docker_engine
from networks.models import Container, Network
from networks.services.networks.create import network_create
from portal.actors import Actor
from portal.models import Membership
from portal.services import membership_set
from tests.browser.conftest import login, screenshot
from tests.factories import PASSWORD, make_network, make_team, make_user
from tests.pages import many_networks
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.browser]

TOOLS = "overlay-portal/tools:latest"
RUN = "#run-form .form-actions button[type=submit]"


class Keyboard:
    """Tab presses, counted, from wherever focus is to the element a selector names."""

    def __init__(self, page):
        self.page, self.tabs = page, 0

    def tab_to(self, selector: str, limit: int = 60) -> None:
        target = self.page.locator(selector)
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            self.tabs += 1
            if target.evaluate("element => element === document.activeElement"):
                return
        raise AssertionError(f"{selector} not reached in {limit} Tabs")


@pytest.fixture
def runs_asked(monkeypatch):
    """What the run form hands the run service: (network, aliases, address) per network picked, per run.

    Read from the call, not from the endpoints afterwards: a worker another test started may fail the run
    on this test's cluster (which has no Docker) and take its endpoints away. The run itself is real."""
    from networks.views import containers as views

    asked: list[list[tuple]] = []
    real = views.container_run

    def spy(**kwargs):
        asked.append([(s["network"].name, s["aliases"], s["ipv4_address"] or None) for s in kwargs["networks"]])
        return real(**kwargs)

    monkeypatch.setattr(views, "container_run", spy)
    return asked


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_two_of_a_thousand_networks_are_picked_by_keyboard_in_under_30_tabs(
    open_page, transactional_db, runs_asked, width, height
):
    team = make_team()
    networks = {n.name: n for n in many_networks(team, 1000)}
    first, second = networks["net-0421"], networks["net-0902"]
    page = login(open_page(width=width, height=height), team.member.username, PASSWORD)
    page.goto("/containers/run/")
    keys = Keyboard(page)

    keys.tab_to("#id_name")  # from the top, through the menu (the skip link would save its stops)
    page.keyboard.type("web")
    keys.tab_to("#id_image")
    page.keyboard.type(TOOLS)
    keys.tab_to("#id_networks")
    picker = page.get_by_role("combobox", name="Add a network")
    offered = page.get_by_role("listbox", name="Networks that match", include_hidden=True)
    expect(picker).to_be_focused()
    page.keyboard.type("net-0421")
    expect(offered.get_by_role("option", name="net-0421")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    rows = page.locator("[data-picked-network]")
    expect(rows).to_have_count(1)
    expect(picker).to_be_focused()
    expect(picker).to_have_value("")
    page.keyboard.type("net-09")  # 100 match: 8 are offered, and how many more
    expect(offered.get_by_role("option")).to_have_count(8)
    expect(page.locator(".picker-more")).to_have_text("92 more: type more of the name to narrow the list.")
    expect(page.locator("[data-picker-status]")).to_have_text("100 networks match.")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(offered.get_by_role("option", name="net-0902")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(2)
    expect(page.locator("[data-picker-status]")).to_have_text("Added net-0902: 2 networks picked.")

    keys.tab_to(f"#id_aliases_{first.pk}")
    page.keyboard.type("db, database")
    keys.tab_to(f"#id_ipv4_address_{second.pk}")
    page.keyboard.type("10.0.0.300")
    keys.tab_to(RUN)
    height_picked = page_height(page)
    print(f"\n{width}x{height}: {keys.tabs} Tabs to Run; page {height_picked} px high with two networks picked")
    screenshot(page, f"run-picker-{width}")
    assert keys.tabs < 30
    assert height_picked < 2 * height

    page.keyboard.press("Enter")  # Run: refused, the address is no address
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Static IPv4 address on net-0902: ")
    expect(rows).to_have_count(2)  # nothing lost: the networks picked, their aliases, the address typed
    expect(page.locator(f"#id_aliases_{first.pk}")).to_have_value("db, database")
    address = page.locator(f"#id_ipv4_address_{second.pk}")
    expect(address).to_have_value("10.0.0.300")
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#" + address.get_attribute("aria-describedby"))).not_to_be_empty()
    screenshot(page, f"run-picker-refused-{width}")
    print(f"{width}x{height}: the refused form, with its summary, is {page_height(page)} px high")

    page.keyboard.press("Tab")  # the summary's link, to the field
    page.keyboard.press("Enter")
    expect(address).to_be_focused()
    good = str(second.subnet_network.network_address + 9)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(good)
    page.keyboard.press("Enter")  # sends the form, as Enter in any of its boxes
    page.wait_for_url(re.compile(r"/containers/\d+/$"))
    assert Container.objects.filter(cluster=team.cluster, name="web").exists()
    assert runs_asked[-1] == [("net-0421", ["db", "database"], None), ("net-0902", [], good)]


def test_a_network_is_removed_and_the_list_offers_it_again(open_page, transactional_db):
    team = make_team()
    front, back = make_network(team, "front"), make_network(team, "back")
    page = login(open_page(), team.member.username, PASSWORD)
    page.goto("/containers/run/")
    picker = page.get_by_role("combobox", name="Add a network")
    offered = page.get_by_role("listbox", name="Networks that match", include_hidden=True)
    picker.fill("front")
    offered.get_by_role("option", name="front").click()
    picker.fill("ba")
    page.keyboard.press("Enter")
    expect(offered.get_by_role("option")).to_have_count(0)  # closed: both picked
    picker.fill("")
    page.keyboard.press("ArrowDown")
    expect(page.locator("[data-picker-status]")).to_have_text("Every network is picked.")
    page.get_by_role("button", name="Remove front").click()
    expect(picker).to_be_focused()
    expect(page.locator(f"#id_aliases_{front.pk}")).to_have_count(0)
    expect(page.locator(f"#id_aliases_{back.pk}")).to_be_visible()
    picker.fill("o")
    expect(offered.get_by_role("option")).to_have_text(["front"])
    page.keyboard.press("Escape")
    expect(offered).to_be_hidden()
    expect(picker).to_have_attribute("aria-expanded", "false")


def test_without_javascript_the_pages_own_buttons_add_and_remove_networks(
    browser, live_server, transactional_db, runs_asked
):
    team = make_team()
    make_network(team, "front")
    make_network(team, "back")
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = login(context.new_page(), team.member.username, PASSWORD)
        page.goto("/containers/run/")
        page.get_by_label("Name", exact=True).fill("web")
        page.get_by_label("Image", exact=True).fill(TOOLS)
        for name in ("front", "back"):
            page.get_by_label("Add a network").select_option(label=name)
            page.get_by_role("button", name="Add network").click()
            expect(page.get_by_label(f"Aliases on {name}")).to_be_focused()  # the row just added
            page.get_by_label(f"Aliases on {name}").fill(f"{name}-alias")
        page.get_by_role("button", name="Remove front").click()
        expect(page.get_by_label("Aliases on front")).to_have_count(0)
        expect(page.get_by_label("Aliases on back")).to_have_value("back-alias")
        expect(page.get_by_label("Name", exact=True)).to_have_value("web")
        expect(page.locator("[data-error-summary]")).to_have_count(0)  # a step, not a refusal
        page.get_by_label("Name", exact=True).press("Enter")  # runs: the picker's buttons are not the default
        page.wait_for_url(re.compile(r"/containers/\d+/$"))
        assert Container.objects.filter(name="web").exists()
        assert runs_asked[-1] == [("back", ["back-alias"], None)]
    finally:
        context.close()


@pytest.mark.cluster
@pytest.mark.worker
def test_a_container_runs_on_two_networks_picked_with_aliases_and_an_address(
    open_page, tenant_cluster, celery_worker_process
):
    cluster, team = tenant_cluster, first_team(tenant_cluster)
    user = make_user(f"picker-{team.slug}")
    membership_set(tenant=team, user=user, role=Membership.Role.MEMBER)
    made = [
        wait_for_operation(network_create(actor=Actor.system("tests"), tenant=team, cluster=cluster, name=name))
        for name in ("pick-front", "pick-back")
    ]
    front, back = (Network.objects.get(pk=operation.network_id) for operation in made)
    assert front.status == back.status == Network.Status.ACTIVE
    address = str(back.subnet_network.network_address + 23)

    page = login(open_page(), user.username, PASSWORD)
    page.goto("/containers/run/")
    page.get_by_label("Name", exact=True).fill("picked")
    page.get_by_label("Image", exact=True).fill(TOOLS)
    page.get_by_label("Command", exact=True).fill("sleep 600")
    picker = page.get_by_role("combobox", name="Add a network")
    for network in (front, back):
        picker.fill(network.name)
        page.keyboard.press("Enter")
    page.get_by_label("Aliases on pick-front").fill("api, api.internal")
    page.get_by_label("Aliases on pick-back").fill("worker")
    page.get_by_label("Static IPv4 address on pick-back").fill(address)
    page.get_by_role("button", name="Run container").click()
    page.wait_for_url(re.compile(r"/containers/\d+/$"))
    expect(page.locator("#container-status .badge")).to_have_attribute("data-status", "running", timeout=90_000)

    # What Docker made: the container on both networks, with their aliases and the address asked for.
    container = Container.objects.get(cluster=cluster, name="picked")
    attrs = docker_engine.inspect_container(container.placed_node().docker, container.docker_id)
    joined = attrs["NetworkSettings"]["Networks"]
    assert {"pick-front", "pick-back"} <= set(joined)
    assert {"api", "api.internal"} <= set(joined["pick-front"]["Aliases"] or [])
    assert "worker" in (joined["pick-back"]["Aliases"] or []) and joined["pick-back"]["IPAddress"] == address
