"""The main pages, htmx and Swagger UI work under the Content-Security-Policy, and it blocks nothing on
them (the open_page fixture collects what chromium reports as blocked; see tests/browser/conftest.py)."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import PASSWORD, make_network, make_team

pytestmark = [pytest.mark.browser]

PAGES = [
    "/",
    "/networks/",
    "/networks/new/",
    "/containers/",
    "/operations/",
    "/map/",
    "/topology/",
    "/members/",
    "/audit/",
    "/tokens/",
    "/clusters/",
    "/admin/",
]


def test_the_main_pages_run_with_nothing_blocked(open_page, transactional_db):
    team = make_team()
    make_network(team, "alpha")
    make_network(team, "beta")
    get_user_model().objects.filter(pk=team.owner.pk).update(is_staff=True, is_superuser=True)
    page = login(open_page(), team.owner.username, PASSWORD)

    for path in PAGES:
        assert page.goto(path).status == 200, path
        expect(page.locator("body")).to_be_visible()
    page.goto(f"/admin/networks/cluster/{team.cluster.pk}/change/")
    expect(page.get_by_role("button", name="Test connection")).to_be_visible()

    # htmx runs: typing in the filter swaps the results in, with no form submitted.
    page.goto("/networks/")
    page.get_by_label("Search").fill("alph")
    expect(page.get_by_role("link", name="beta")).to_have_count(0)
    expect(page.get_by_role("link", name="alpha")).to_be_visible()
    assert "q=alph" in page.url  # hx-push-url

    # portal.js runs: a new key selects itself when focused.
    page.goto("/tokens/")
    page.get_by_label("Name it after what will use it").fill("cli")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_label("Key", exact=True)
    key.focus()
    selected = page.evaluate("() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]")
    assert selected == [0, len(key.input_value())]

    # Swagger UI renders the schema.
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Overlay Portal API")
    expect(page.locator(".opblock").first).to_be_visible()

    assert open_page.violations == []


def test_an_inline_script_is_blocked_and_reported(open_page, transactional_db):
    """The check above can fail: a script put inline into a page is refused and reported."""
    page = open_page()
    page.goto("/login/")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                       document.body.appendChild(s); }""")
    assert page.evaluate("() => window.ran") is None
    for _ in range(100):  # the report is an event after the refusal
        if open_page.violations:
            break
        page.wait_for_timeout(50)
    assert any("script-src" in violation for violation in open_page.violations), open_page.violations
    open_page.violations.clear()  # expected here: the fixture's own check would fail the test
