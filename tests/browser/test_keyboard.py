"""Create network by keyboard alone, in a real chromium, on the real local cluster with a real worker.

From the top of the network list: Tab, typing and Enter only (arrow keys in a select), counting the
Tabs. The network turns active on its page; a refused form brings focus to its error summary. axe-core
checks the two states no plain page visit shows: the refused form and the network turned active.
The walk of *Run container* is its own test, beside the run form's picker.
"""

import re

import pytest
from playwright.sync_api import expect

from portal.models import Membership
from portal.services import membership_set
from tests.browser.conftest import login, need_axe, serious_violations
from tests.factories import PASSWORD, make_user
from tests.support import first_team

pytestmark = [pytest.mark.browser, pytest.mark.cluster, pytest.mark.worker]

# Where focus is: the element's id, or its tag and text.
FOCUSED = """() => { const el = document.activeElement;
  return el ? (el.id ? "#" + el.id : el.tagName.toLowerCase() + ":" + el.textContent.trim()) : ""; }"""


def tab_to(page, target: str, *, limit: int) -> int:
    """Press Tab until focus is on `target` (as FOCUSED writes it); the number of Tabs it took."""
    seen = []
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
        if seen[-1] == target:
            return count
    raise AssertionError(f"{target} not reached in {limit} Tabs; focus went {seen}")


def skip_to_content(page) -> int:
    """From the top of a page, the skip link (the first Tab) and Enter: focus is on the content."""
    count = tab_to(page, "a:Skip to the content", limit=1)
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    return count


def test_create_network_by_keyboard_alone(open_page, tenant_cluster, celery_worker_process):
    team = first_team(tenant_cluster)
    user = make_user(f"keys-{team.slug}")
    membership_set(tenant=team, user=user, role=Membership.Role.MEMBER)
    page = login(open_page(width=1366), user.username, PASSWORD)
    page.context.add_init_script(path=need_axe())
    name = f"keys-{team.slug}"
    tabs = {}

    page.goto("/networks/")
    tabs["list: skip link"] = skip_to_content(page)
    tabs["Create network link"] = tab_to(page, "a:Create network", limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url("**/networks/new/")

    tabs["form: skip link"] = skip_to_content(page)
    tabs["name"] = tab_to(page, "#id_name", limit=3)
    page.keyboard.type(name)
    preview = page.locator("#subnet-preview")
    expect(preview).to_contain_text("will get")
    tabs["prefix length"] = tab_to(page, "#id_prefixlen", limit=2)
    page.keyboard.press("ArrowDown")  # the next size in the list
    chosen = page.locator("#id_prefixlen").input_value()
    expect(preview).to_contain_text(f"/{chosen}")
    tabs["Create network button"] = tab_to(page, "button:Create network", limit=12)
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/networks/\d+/(#main)?$"))  # the skip link's #main stays
    expect(page.locator("#network-status .badge").first).to_have_attribute("data-status", "active", timeout=60_000)
    expect(page.locator("main h1")).to_contain_text(name)
    assert page.locator("main").inner_text().count(f"/{chosen}") >= 1, "the size chosen by keyboard was not kept"
    assert serious_violations(page) == []
    # The page's body refreshes itself once the network settles (htmx marks it .htmx-request while it asks):
    # its buttons stay as they are, and only a form being sent dims its own (this check failed contrast once).
    page.locator("#network-body").evaluate("body => body.classList.add('htmx-request')")
    assert page.get_by_role("button", name="Remove network").evaluate("b => getComputedStyle(b).opacity") == "1"

    # The same name again is refused: the summary takes focus, says why, and its link leads to the field.
    page.goto("/networks/new/")
    skip_to_content(page)
    tab_to(page, "#id_name", limit=tabs["name"])
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(name)
    expect(page.locator("#id_name")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    tab_to(page, "a:" + summary.get_by_role("link").first.inner_text().strip(), limit=1)
    page.keyboard.press("Enter")
    expect(page.locator("#id_name")).to_be_focused()

    print(f"\nCreate network by keyboard: Tabs {tabs}, {sum(tabs.values())} in all")
    assert sum(tabs.values()) <= 15, tabs
