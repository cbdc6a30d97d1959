"""A refused form, in a real chromium: the error summary has focus when the page comes back, its links go
to the fields, and the field it names is marked invalid (an environment variable's included)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot
from tests.factories import PASSWORD, make_container, make_team

pytestmark = [pytest.mark.browser]

FOCUSED_ID = "document.activeElement && document.activeElement.id"


def test_a_refused_run_brings_focus_to_the_summary_and_its_link_to_the_variable(open_page, transactional_db):
    team = make_team()
    page = login(open_page(), team.member.username, PASSWORD)
    page.goto("/containers/run/")
    page.locator("#id_name").fill("web")
    page.locator("#id_image").fill("overlay-portal/tools:latest")
    page.locator("#id_env-0-name").fill("1BAD")
    page.locator("#id_env-0-value").fill("x")
    page.get_by_role("button", name="Run container").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("1 thing to fix")
    expect(summary).to_contain_text("Variable name (row 1): ")
    expect(summary).to_be_focused()
    variable = page.locator("#id_env-0-name")
    expect(variable).to_have_attribute("aria-invalid", "true")
    expect(variable).to_have_value("1BAD")  # what was typed is kept
    expect(page.locator("#" + variable.get_attribute("aria-describedby"))).to_have_text(
        '"1BAD" is not a valid environment variable name (letters, digits, underscores).'
    )

    screenshot(page, "refused-run")
    summary.get_by_role("link", name="Variable name (row 1)").click()
    expect(variable).to_be_focused()
    assert page.evaluate(FOCUSED_ID) == "id_env-0-name"


def test_an_empty_login_is_refused_by_the_portal_with_focus_on_its_summary(open_page, transactional_db):
    page = open_page()
    page.goto("/login/")
    page.get_by_role("button", name="Log in").click()  # no browser pop-up stops the empty form
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Type your username.")
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")


def test_a_form_htmx_swaps_back_refused_focuses_its_summary_too(open_page, transactional_db):
    team = make_team()
    db = make_container(team, "db")
    page = login(open_page(), team.member.username, PASSWORD)
    page.goto(f"/containers/{db.pk}/")
    page.evaluate("window.samePage = true")
    page.get_by_role("button", name="Run checks").click()  # no name to look up
    summary = page.locator("#diagnose [data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Name to look up: ")
    expect(page.locator("#diagnose-target")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.samePage === true")  # swapped in by htmx, not a new page


def test_a_form_sent_after_the_skip_link_still_focuses_its_summary(open_page, transactional_db):
    """The skip link leaves #main in the address; a form without an action posts there, and the browser's
    move to #main on the answer must not take focus from the summary."""
    page = open_page()
    page.goto("/login/")
    page.get_by_role("link", name="Skip to the content").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/login/#main")
    page.get_by_role("button", name="Log in").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Type your username.")
    page.wait_for_load_state("load")
    expect(summary).to_be_focused()
