"""Every page a team owner reaches fits a 390 px phone without scrolling sideways, and the menu folds.

A real chromium against the live server; the rows are made in the database (no cluster needed), with
the long names, published ports and tokens that once pushed pages wider than the screen. The same walk
at 1366 px checks the desktop: the menu is plain there, no button.
"""

import pytest
from playwright.sync_api import expect

from networks.models import Operation
from portal.actors import Actor
from portal.changes import change_record
from portal.services import api_token_create
from tests.browser.conftest import login
from tests.factories import PASSWORD, make_container, make_network, make_operation, make_team

pytestmark = [pytest.mark.browser]

LONG = "a-network-name-as-long-as-anyone-types-it-with-no-break"  # one word, no place to wrap
# The widest elements when a page is too wide: what to fix, named in the failure.
WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`)
  .slice(-5)"""
# Boxes that scroll sideways inside the page (a table in its wrapper): their content is out of view too.
# The topology is a picture that pans in its own box: shrunk to 390 px its labels could not be read.
SCROLLERS = """() => [...document.querySelectorAll("main *")]
  .filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible")
  .filter((el) => !el.matches(".visually-hidden, .visually-hidden *, .topology-wrap"))
  .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth}px in ${el.clientWidth}`)"""


@pytest.fixture
def pages(transactional_db) -> tuple[str, dict[str, str]]:
    """A team owner with one of everything, and every page of the portal they reach, by name."""
    team = make_team()
    network = make_network(team, LONG)
    make_network(team, "small")
    container = make_container(
        team,
        "a-container-name-long-enough-to-push-its-badge-off-a-screen",
        networks=[network],
        ports=[{"host": 8080, "container": 80, "protocol": "tcp"}],
        published_ports=[
            {"port": f"{port}/tcp", "host_ip": "0.0.0.0", "host_port": str(port + 40000)}
            for port in (80, 443, 8080, 9090)
        ],
    )
    operation = make_operation(
        team, Operation.Kind.CONTAINER_RUN, target=container.name, status=Operation.Status.SUCCEEDED
    )
    api_token_create(actor=Actor.system("tests"), user=team.owner, name="a-token-for-the-nightly-backup-job-x")
    # One about to expire (a warning line and a badge) and a team token (its table, a long scope).
    api_token_create(actor=Actor.system("tests"), user=team.owner, name="a-token-that-expires-in-three-days", expires=3)
    api_token_create(
        actor=Actor.system("tests"), name="a-team-token-for-the-deploy-pipeline", team=team.tenant, role="member"
    )
    change_record(actor=Actor.system("tests"), action="network.create", tenant=team.tenant, object_repr=LONG)
    return team.owner.username, {
        "dashboard": "/",
        "networks": "/networks/",
        "network": f"/networks/{network.pk}/",
        "create network": "/networks/new/",
        "containers": "/containers/",
        "container": f"/containers/{container.pk}/",
        "run container": "/containers/run/",
        "operations": "/operations/",
        "operation": f"/operations/{operation.pk}/",
        "topology": "/topology/",
        "map": "/map/",
        "registries": "/registries/",
        "tokens": "/tokens/",
        "members": "/members/",
        "audit log": "/audit/",
    }


def too_wide(page, urls: dict[str, str]) -> dict[str, str]:
    """Each page whose document is wider than the window: its width and its widest elements."""
    wide = {}
    for name, url in urls.items():
        page.goto(url)
        expect(page.locator("main h1").first).to_be_visible()
        width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > window:
            wide[name] = f"{width} px in {window}: {page.evaluate(WIDEST)}"
        elif scrollers := page.evaluate(SCROLLERS):
            wide[name] = f"scrolls inside: {scrollers}"
    return wide


def test_no_page_scrolls_sideways_on_a_phone_and_the_menu_folds(open_page, pages):
    username, urls = pages
    page = login(open_page(width=390, height=844), username, PASSWORD)

    wide = too_wide(page, urls)
    assert not wide, "Too wide:\n" + "\n".join(f"{name}: {why}" for name, why in wide.items())

    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Audit log")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_text("Team", exact=True).click()  # the team's pages' disclosure
    for name in ("Audit log", "API tokens"):
        link = nav.get_by_role("link", name=name)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= 390, f"{name} is off-screen: {box}"
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(nav.get_by_role("link", name="API tokens")).to_be_hidden()

    menu.click()
    nav.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/tokens/")
    expect(menu).to_have_attribute("aria-expanded", "false")
    # The new key and its curl line are one long word each.
    page.get_by_label("Name it after what will use it").fill("phone")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Your new key")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_desktop_the_menu_is_plain_and_no_page_scrolls_sideways(open_page, pages):
    username, urls = pages
    page = login(open_page(width=1366, height=900), username, PASSWORD)

    wide = too_wide(page, urls)
    assert not wide, "Too wide:\n" + "\n".join(f"{name}: {why}" for name, why in wide.items())

    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Dashboard", "Networks", "API tokens"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    team = nav.locator("details.navgroup")
    expect(team.get_by_role("link", name="Audit log")).to_be_hidden()  # the team's pages, folded: one Tab stop
    team.get_by_text("Team", exact=True).click()
    expect(team.get_by_role("link", name="Audit log")).to_be_visible()
    page.keyboard.press("Escape")
    expect(team.get_by_role("link", name="Audit log")).to_be_hidden()
    tokens = nav.get_by_role("link", name="API tokens").bounding_box()
    dashboard = nav.get_by_role("link", name="Dashboard").bounding_box()
    assert tokens["y"] == dashboard["y"], "On a desktop the menu is one row"
