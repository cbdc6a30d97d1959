"""The Logs section of a container's page in a real chromium, on the real cluster and worker: a viewer
sees the last lines, ticks *Follow live* and new lines come by themselves; at 390 px the page does not
scroll sideways, the log box scrolls inside itself and is reached with the keyboard; axe finds nothing
serious; the Content-Security-Policy blocks nothing (open_page)."""

import re

import pytest
from playwright.sync_api import expect

from networks.models import Container
from networks.services.containers.run import container_run
from portal.actors import Actor
from portal.models import Membership
from portal.services import membership_set
from tests.browser.conftest import login, need_axe, serious_violations
from tests.factories import PASSWORD, make_user
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.browser, pytest.mark.cluster, pytest.mark.worker]

COUNTER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done"


def _numbers(page) -> list[int]:
    return [int(n) for n in re.findall(r"line (\d+)", page.locator("#log-lines").inner_text())]


def test_a_viewer_follows_a_container_s_lines_live(open_page, tenant_cluster, celery_worker_process):
    cluster, team = tenant_cluster, first_team(tenant_cluster)
    operation = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=team,
            cluster=cluster,
            name="counter",
            image="overlay-portal/tools:latest",
            command=["sh", "-c", COUNTER],
        )
    )
    container = Container.objects.get(pk=operation.container_id)
    assert container.status == Container.Status.RUNNING, operation.error
    user = make_user(f"logs-{team.slug}")
    membership_set(tenant=team, user=user, role=Membership.Role.VIEWER)

    page = open_page(width=390)
    page.context.add_init_script(path=need_axe())  # axe in every document, before its own scripts (the CSP)
    login(page, user.username, PASSWORD)
    page.goto(f"/containers/{container.pk}/")
    region = page.get_by_role("region", name="Log of counter")
    expect(region).to_contain_text("line 0")
    assert region.get_attribute("aria-live") is None and region.get_attribute("tabindex") == "0"

    page.get_by_label("Follow live").check()
    expect(page.locator("#log-follow")).to_contain_text("Following")
    first = max(_numbers(page))
    expect(region).to_contain_text(f"line {first + 2}", timeout=20_000)  # came by themselves
    numbers = _numbers(page)
    assert numbers == sorted(set(numbers)), "a followed line is shown once, in order"

    # 390 px: no sideways scroll of the page; the box scrolls inside itself and takes the focus
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    region.focus()
    assert region.evaluate("box => box === document.activeElement")
    page.get_by_label("Follow live").uncheck()
    expect(page.locator("#log-follow")).to_have_count(0)
    assert serious_violations(page) == []
