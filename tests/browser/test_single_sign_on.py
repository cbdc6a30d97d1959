"""Signing in through the real local provider's own form in chromium: two people of two groups land in
their teams with their roles; a group taken away at the provider takes the membership away at the next
sign-in; sign-out ends the session at the provider too."""

import pytest
from playwright.sync_api import expect

from portal.models import Membership
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]


@pytest.fixture
def sso_in_browser(sso, settings, transactional_db):
    """The portal's pages may send the sign-out form on to the provider (its origin in form-action)."""
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "form-action": [*policy["DIRECTIVES"]["form-action"], sso.url]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    return sso


def sign_in_at_provider(page, sub: str, provider):
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with the test provider").click()
    page.get_by_placeholder("sub").fill(sub)  # the provider's own form
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: not url.startswith(provider.url))  # back at the portal


def roles(username: str) -> dict[str, str]:
    return dict(Membership.objects.filter(user__username=username).values_list("tenant__slug", "role"))


def test_two_people_of_two_groups_land_in_their_teams(open_page, sso_in_browser):
    alice = open_page()
    sign_in_at_provider(alice, "alice", sso_in_browser)
    alice.goto("/members/")
    expect(alice.get_by_role("heading", name="Members of Demo")).to_be_visible()
    row = alice.locator("tr", has_text="alice")
    expect(row.get_by_label("Role of alice")).to_have_value("owner")  # an owner manages the team
    expect(row).to_contain_text("identity provider")
    screenshot(alice, "sso-alice-members")

    bob = open_page()
    sign_in_at_provider(bob, "bob", sso_in_browser)
    bob.goto("/members/")
    expect(bob.locator("body")).to_contain_text("You are member here")
    expect(bob.get_by_label("Role of bob")).to_have_count(0)  # a member does not manage
    assert roles("alice") == {"demo": "owner"}
    assert roles("bob") == {"demo": "member", "payments": "viewer"}


def test_a_group_removed_at_the_provider_removes_the_membership_at_the_next_sign_in(open_page, sso_in_browser):
    page = open_page()
    sign_in_at_provider(page, "bob", sso_in_browser)
    assert roles("bob") == {"demo": "member", "payments": "viewer"}

    sso_in_browser.set_claims("bob", {"preferred_username": "bob", "groups": ["payments-viewers"]})
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="End session").click()  # the provider's end-session page
    expect(page.get_by_role("link", name="Sign in with the test provider")).to_be_visible()

    sign_in_at_provider(page, "bob", sso_in_browser)
    expect(page.locator("body")).to_contain_text("You are no longer in Demo")
    assert roles("bob") == {"payments": "viewer"}


def test_a_person_with_no_mapped_group_is_told_whom_to_ask(open_page, sso_in_browser):
    page = open_page()
    sign_in_at_provider(page, "carol", sso_in_browser)
    expect(page.get_by_role("heading", name="No team for you yet")).to_be_visible()
    expect(page.locator("#sso-no-team")).to_contain_text("none of the groups")
    page.reload()  # says the same, at its own address: the used code is not sent again
    expect(page.get_by_role("heading", name="No team for you yet")).to_be_visible()
    expect(page.locator("#sso-no-team")).to_contain_text("none of the groups")
