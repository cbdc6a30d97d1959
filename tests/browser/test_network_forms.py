"""The network forms' own scripts in a real chromium: the create form's free blocks fill the custom
subnet when picked (and the preview checks it), and the unused networks page asks before it removes.
Rows only: no cluster, no worker (nothing is sent to one)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from networks.models import Network
from tests.browser.conftest import login
from tests.factories import PASSWORD, make_network, make_team

pytestmark = [pytest.mark.browser]


def test_picking_a_free_block_fills_the_custom_subnet(open_page, transactional_db):
    team = make_team()
    make_network(team, "first")  # 10.0.0.0/24
    page = login(open_page(), team.member.username, PASSWORD)
    page.goto("/networks/new/")
    page.get_by_label("Size").select_option("26")
    block = page.get_by_role("button", name="10.0.1.64/26")
    expect(block).to_be_visible()
    block.click()
    expect(page.get_by_role("textbox", name="Custom subnet")).to_have_value("10.0.1.64/26")
    expect(page.locator("#subnet-preview")).to_contain_text("10.0.1.64/26 is free")
    assert not open_page.violations


def test_the_unused_networks_page_removes_the_ticked_ones(open_page, transactional_db):
    team = make_team()
    for name in ("idle-a", "idle-b"):
        network = make_network(team, name)
        Network.objects.filter(pk=network.pk).update(created=timezone.now() - datetime.timedelta(days=40))
    page = login(open_page(), team.member.username, PASSWORD)
    page.goto("/networks/unused/")
    page.get_by_label("Remove idle-b").uncheck()
    page.get_by_role("button", name="Remove the ticked networks").click()
    expect(page.locator(".messages")).to_contain_text("Removing 1 network(s): idle-a.")
    assert Network.objects.get(name="idle-b").status == Network.Status.ACTIVE
    assert not open_page.violations
