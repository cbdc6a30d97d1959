"""The cluster pictures hold up with hundreds of networks: the map's grids are one Tab stop each, moved
with the arrow keys, and the topology draws only the networks containers are on until asked.

A real chromium against the live server; the networks are rows made in the database (no cluster needed).
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import PASSWORD, make_container, make_network, make_team

pytestmark = [pytest.mark.browser]

FOCUSED_BLOCK = "document.activeElement.getAttribute('data-block')"
# Tab stops of the whole page: pressed until focus comes back round (or to the page itself).
TAB_ROUND = """() => document.activeElement === document.body ? null : document.activeElement.outerHTML.slice(0, 120)"""


def tab_stops(page, limit: int = 700) -> int:
    """How many Tab presses take focus once round the page."""
    page.locator("body").focus()
    page.keyboard.press("Tab")
    first, stops = page.evaluate(TAB_ROUND), 1
    while stops < limit:
        page.keyboard.press("Tab")
        now = page.evaluate(TAB_ROUND)
        if now is None or now == first:
            break
        stops += 1
    return stops


@pytest.fixture
def crowded(transactional_db):
    """A team with 253 networks, three of them with containers."""
    team = make_team()
    for i in range(250):
        make_network(team, f"cpu-a-{i}")
    used = [make_network(team, f"used-{i}") for i in range(3)]
    make_container(team, "web", networks=used, node="node1")
    make_container(team, "db", networks=used[1:], node="node2")
    return team


def test_each_map_grid_is_one_tab_stop_moved_with_the_arrow_keys(open_page, crowded):
    page = login(open_page(1366), crowded.owner.username, PASSWORD)
    page.goto(f"/map/?cluster={crowded.cluster.pk}")
    grids = page.locator("svg[data-grid-keys]")
    expect(grids).to_have_count(2)
    for i in range(2):
        expect(grids.nth(i).locator('a.cell[tabindex="0"]')).to_have_count(1)
        expect(grids.nth(i).locator('a.cell[tabindex="-1"]')).to_have_count(255)
    # 512 squares were 512 Tab stops; now the page's links, the menu and one stop per grid
    assert tab_stops(page) < 40

    overview = grids.nth(0)
    overview.locator('a.cell[tabindex="0"]').focus()
    assert page.evaluate(FOCUSED_BLOCK) == "10.0.0.0/16"  # the /16 shown in detail, the next block's
    page.keyboard.press("ArrowRight")
    assert page.evaluate(FOCUSED_BLOCK) == "10.1.0.0/16"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUSED_BLOCK) == "10.17.0.0/16"
    page.keyboard.press("End")
    assert page.evaluate(FOCUSED_BLOCK) == "10.31.0.0/16"
    page.keyboard.press("ArrowRight")  # the edge: focus stays
    assert page.evaluate(FOCUSED_BLOCK) == "10.31.0.0/16"
    page.keyboard.press("Home")
    assert page.evaluate(FOCUSED_BLOCK) == "10.16.0.0/16"
    page.keyboard.press("Control+End")
    assert page.evaluate(FOCUSED_BLOCK) == "10.255.0.0/16"
    page.keyboard.press("ArrowUp")
    assert page.evaluate(FOCUSED_BLOCK) == "10.239.0.0/16"
    expect(overview.locator('a.cell[tabindex="0"]')).to_have_attribute("data-block", "10.239.0.0/16")  # roving
    expect(page.locator("a.cell:focus")).to_have_accessible_name("10.239.0.0/16: free")

    page.keyboard.press("Enter")  # the square's link: its /24s in detail
    expect(page.locator("#detail-title")).to_contain_text("10.239.0.0/16")
    expect(grids.nth(0).locator('a.cell[tabindex="0"]')).to_have_attribute("data-block", "10.239.0.0/16")


def test_the_topology_draws_the_networks_containers_are_on_until_asked(open_page, crowded):
    page = login(open_page(1366), crowded.owner.username, PASSWORD)
    page.goto(f"/topology/?cluster={crowded.cluster.pk}")
    picture = page.locator("svg.topology")
    expect(picture).to_contain_text("used-0")
    expect(picture).not_to_contain_text("cpu-a-1")
    few = page.evaluate("document.documentElement.scrollHeight")

    page.get_by_role("link", name="Draw them too").click()
    expect(page.locator("#topology-empty")).to_contain_text("Every network is drawn")
    expect(picture).to_contain_text("cpu-a-1")
    assert page.url.endswith(f"?cluster={crowded.cluster.pk}&empty=1")
    every = page.evaluate("document.documentElement.scrollHeight")
    assert every > few + 250 * 20  # 250 more buses, each drawn ~34 units apart

    page.get_by_role("link", name="Draw only networks with containers").click()
    expect(page.locator("#topology-empty")).to_contain_text("250 networks with no container are not drawn.")
