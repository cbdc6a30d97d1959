"""Long lists walk to their last page by their Next links, keeping the search and filters.

A real chromium against the live server; the rows are made in the database (no cluster needed).
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from networks.models import Operation
from portal.actors import Actor
from portal.changes import change_record
from tests.browser.conftest import login
from tests.factories import PASSWORD, make_network, make_operation, make_team

pytestmark = [pytest.mark.browser]

ROWS = 60


def query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def walk(page, first_url: str, row_selector: str) -> tuple[list[str], list[str]]:
    """Follow Next from the first page to the last: the rows' texts and every page's address."""
    page.goto(first_url)
    texts, urls = [], []
    while True:
        expect(page.locator(row_selector).first).to_be_visible()
        urls.append(page.url)
        texts.extend(page.locator(row_selector).all_inner_texts())
        following = page.get_by_role("link", name="Next →")
        if following.count() == 0:
            return texts, urls
        number = int(re.search(r"Page (\d+) of", page.locator("nav.pagination").inner_text()).group(1))
        following.click()
        expect(page.locator("nav.pagination")).to_contain_text(f"Page {number + 1} of")


def test_the_networks_list_walks_to_its_last_page_keeping_the_search(open_page, transactional_db):
    team = make_team()
    for i in range(ROWS):
        make_network(team, f"paged-{i:02d}")
        if i % 12 == 0:
            make_network(team, f"other-{i}")
    page = login(open_page(), team.owner.username, PASSWORD)

    rows, urls = walk(page, "/networks/?q=paged", "#results tbody tr")

    names = sorted(re.match(r"\S+", row).group(0) for row in rows)
    assert names == [f"paged-{i:02d}" for i in range(ROWS)]
    assert [query(url).get("q") for url in urls] == [["paged"]] * 3
    assert query(urls[-1])["page"] == ["3"]


def test_the_operations_list_walks_to_its_last_page_keeping_its_filter(open_page, transactional_db):
    team = make_team()
    for i in range(ROWS):
        make_operation(team, target=f"op-{i:02d}", status=Operation.Status.SUCCEEDED)
        if i % 12 == 0:
            make_operation(team, target=f"running-{i}", status=Operation.Status.RUNNING)
    page = login(open_page(), team.owner.username, PASSWORD)

    rows, urls = walk(page, "/operations/?status=succeeded", "#results tbody tr")

    targets = sorted(re.findall(r"op-\d\d", "\n".join(rows)))
    assert targets == [f"op-{i:02d}" for i in range(ROWS)]
    assert not any("running-" in row for row in rows)
    assert [query(url).get("status") for url in urls] == [["succeeded"]] * 3


def test_the_audit_log_walks_to_its_last_page_keeping_its_filter(open_page, transactional_db):
    team = make_team()
    owner = Actor(user=None, name=team.owner.username)
    for i in range(ROWS):
        change_record(actor=owner, action="network.create", tenant=team.tenant, object_repr=f"a-{i:02d}")
        if i % 12 == 0:
            change_record(actor=owner, action="token.create", tenant=team.tenant, object_repr=f"t-{i}")
    page = login(open_page(), team.owner.username, PASSWORD)

    rows, urls = walk(page, "/audit/?action=network.", "main table tbody tr")

    objects = sorted(re.findall(r"\ba-\d\d", "\n".join(rows)))
    assert objects == [f"a-{i:02d}" for i in range(ROWS)]
    assert not any("token.create" in row for row in rows)
    assert [query(url).get("action") for url in urls] == [["network."]] * 3


def test_a_column_header_sorts_keeping_the_search_and_the_last_page_is_one_click_away(open_page, transactional_db):
    team = make_team()
    for i in range(ROWS):
        make_network(team, f"cpu-a-{i}")
    make_network(team, "other")
    page = login(open_page(), team.owner.username, PASSWORD)
    page.goto("/networks/?q=cpu")
    rows = page.locator("#results tbody tr")
    status = page.locator("#results-status")
    expect(status).to_have_text("60 networks match")
    expect(page.get_by_role("columnheader", name="Name")).to_have_attribute("aria-sort", "ascending")
    assert [row.split()[0] for row in rows.all_inner_texts()[:3]] == ["cpu-a-0", "cpu-a-1", "cpu-a-2"]

    page.get_by_role("columnheader", name="Name").get_by_role("link").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("columnheader", name="Name")).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_role("columnheader", name="Name").get_by_role("link")).to_be_focused()
    expect(rows.first).to_contain_text("cpu-a-59")
    assert query(page.url) == {"q": ["cpu"], "ordering": ["-name"]}

    page.get_by_role("link", name="Page 3, the last").click()

    expect(page.locator("nav.pagination")).to_contain_text("Page 3 of 3")
    assert [row.split()[0] for row in rows.all_inner_texts()] == [f"cpu-a-{i}" for i in range(9, -1, -1)]
    assert query(page.url) == {"q": ["cpu"], "ordering": ["-name"], "page": ["3"]}

    page.get_by_label("Search").fill("cpu-a-1")  # a new search keeps the sort, back on the first page

    expect(status).to_have_text("11 networks match")
    expect(rows.first).to_contain_text("cpu-a-19")
    assert query(page.url) == {"q": ["cpu-a-1"], "ordering": ["-name"]}
    assert page.locator("#results").get_attribute("aria-live") is None
