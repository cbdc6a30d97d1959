"""axe-core (the npm package, tests/browser/axe/) on every page of the portal, in a real chromium.

Every page is found from the URL patterns (a new page is checked without being named here; a new
fragment or action fails until it is listed in NOT_PAGES) and asked about real rows made by
tests/factories.py: a network with a container, a queued operation, a registry login, the team's
cluster. Each page is checked as a member of the team, as staff (who is also the team's owner, so
the owners' forms are checked too) and, for the login page, signed out, at 1366 px and at 390 px;
staff also checks the Django admin pages the portal customises and the API's docs page.

One browser and one signed-in context per person serve every page: the checks all run once, in the
`axe_results` fixture (for the pages selected, so `-k` narrows it), then each page is a test of its
own that fails on any violation of impact serious or critical, naming the rule and the nodes.
`-s` prints each page's totals by impact, as the notes quote them.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from networks.models import Container, Network, Operation
from networks.services.registries import registry_login_set
from networks.views import containers as container_views
from portal.actors import Actor
from portal.changes import change_record
from portal.models import ApiToken, AuditEntry, Membership
from portal.services import api_token_create, membership_set
from tests.browser.conftest import AXE, FAILING, RUN_AXE, login, need_axe
from tests.factories import PASSWORD, make_container, make_network, make_operation, make_staff, make_team
from tests.pages import page_routes, populate
from webhooks.models import WebhookAttempt, WebhookEndpoint
from webhooks.services.endpoints import endpoint_create, endpoint_ping

# The marker makes pytest-django set the test database up even when this module runs alone (it sets up
# only the databases its selected tests ask for; without it the rows went to the real database).
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = (1366, 390)
IMPACTS = ("critical", "serious", "moderate", "minor")
# URL patterns that are not pages: fragments htmx swaps in, actions that only take a POST, files.
NOT_PAGES = {
    "tenant_switch",
    "membership_update",
    "logout",
    "healthz",
    "audit_export",
    "networks:network_preview",
    "networks:network_status",
    "networks:network_inspect",
    "networks:network_connect",
    "networks:network_disconnect",
    "networks:network_remove",
    "networks:network_share",
    "networks:network_unshare",
    "networks:network_describe",
    "networks:container_images",
    "networks:container_remove_exited",
    "networks:container_status",
    "networks:container_diagnose",
    "networks:container_action",
    "networks:operation_progress",
    "networks:operation_row",
    "networks:registry_login_remove",
    "webhooks:webhook_ping",
    "webhooks:webhook_resume",
    "webhooks:webhook_rotate",
    "webhooks:webhook_remove",
    "webhooks:webhook_redeliver",
    "networks:cluster_test",
    "networks:cluster_credentials",
    "networks:cluster_health",
    "networks:cluster_refresh_health",
    "networks:cluster_deregister",
    "networks:metrics",
    # single sign-on, where a branch has it: the way to the provider and its way back (404 when not set up)
    "sso_start",
    "sso_callback",
    "sso_no_team",  # the login page unless a sign-in just ended there (tests/browser/test_single_sign_on.py)
}
# Staff's pages outside the portal's own patterns: the admin pages the portal customises, the API's docs.
STAFF_PAGES = [
    "admin:index",
    *(
        f"admin:{model}_{view}"
        for model in ("networks_cluster", "networks_network", "networks_container")
        for view in ("changelist", "change")
    ),
    *(
        f"admin:{model}_{view}"
        for model in ("portal_tenant", "portal_apitoken", "portal_auditentry")
        for view in ("changelist", "change")
    ),
    "admin:networks_cluster_add",
    "api:docs",
]
BUSY = 40  # networks, more than a page of a list holds
# Seconds a page that asks a worker waits for none here (3 to 5 s in the portal); Celery's wait for an
# answer ends after about 1 s at the least.
NO_WORKER_WAIT = 0.2
# States of pages a plain visit does not show, by the address that shows them and the answer it gets.
STATES = {
    "state: no network matches": ("/networks/?q=no-such-network", 200),
    "state: no container matches": ("/containers/?q=no-such-container", 200),
    "state: not found": ("/networks/999999/", 404),
}
# Refused forms, sent empty by staff (the team's owner sees every form): the page comes back with its
# error summary and its fields marked invalid. By the address of the form and its button.
REFUSED = {
    "refused: create network": ("/networks/new/", "Create network"),
    "refused: API token": ("/tokens/", "Create token"),
    "refused: registry login": ("/registries/", "Save login"),
    "refused: webhook": ("/webhooks/", "Add webhook"),
    "refused: add member": ("/members/", "Add member"),
    "refused: register cluster": ("/clusters/register/", "Connect and register"),
}
PAGES = [name for _, name in page_routes() if name not in NOT_PAGES] + STAFF_PAGES + list(STATES) + list(REFUSED)


# htmx's requests started on load (the run form's images, the inspect panel) have answered.
SETTLED = """() => !document.querySelector(".htmx-request")"""


def nothing_changed(route) -> None:
    """The live parts' long polls (they send X-Seen-Version) are answered "no change" at once: held open
    on the server they would outlive the pages, and the rows."""
    if "x-seen-version" in route.request.headers:
        route.fulfill(status=204)
    else:
        route.continue_()


def made_rows():
    """One of everything a page can be about, and the people who look at them; a team busy enough
    that the lists have page numbers, and networks shared both ways (`populate`)."""
    team = make_team()
    staff = make_staff("axe-staff")
    membership_set(tenant=team.tenant, user=staff, role=Membership.Role.OWNER)
    populate(team, BUSY)
    web = make_network(team, "web")
    make_network(team, "pending", status=Network.Status.CREATING)
    Network.objects.filter(pk=web.pk).update(docker_id="")  # its inspect panel then asks no worker
    db = make_container(
        team,
        "db",
        networks=[web],
        ports=[{"host": 8080, "container": 80, "protocol": "tcp"}],
        published_ports=[{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "8080"}],
    )
    make_container(team, "old", status=Container.Status.EXITED)
    operation = make_operation(team, target="web", network=web)
    make_operation(team, Operation.Kind.CONTAINER_RUN, target="db", container=db, status=Operation.Status.SUCCEEDED)
    login_row = registry_login_set(
        actor=Actor.system("tests"), tenant=team.tenant, registry="registry.example.com", username="ci", password="pw"
    )
    api_token_create(actor=Actor.system("tests"), user=team.member, name="nightly")
    hook, _ = endpoint_create(
        actor=Actor.system("tests"), tenant=team.tenant, url="http://127.0.0.1:9/hook", events=["network.*"]
    )
    ping = endpoint_ping(actor=Actor.system("tests"), endpoint=hook)
    WebhookAttempt.objects.create(delivery=ping, status_code=500, duration_ms=12, response_excerpt="failing")
    reason = "Paused after 15 failed deliveries in a row (the last: HTTP 500). Fix the receiver, then resume."
    WebhookEndpoint.objects.filter(pk=hook.pk).update(status=WebhookEndpoint.Status.PAUSED, paused_reason=reason)
    change_record(actor=Actor.system("tests"), action="network.create", tenant=team.tenant, object_repr="web")
    pks = {
        "networks:network_": web.pk,
        "networks:container_": db.pk,
        "networks:operation_": operation.pk,
        "networks:cluster_": team.cluster.pk,
        "networks:registry_login_": login_row.pk,
        "webhooks:webhook_": hook.pk,
        "admin:networks_cluster": team.cluster.pk,
        "admin:networks_network": web.pk,
        "admin:networks_container": db.pk,
        "admin:portal_tenant": team.tenant.pk,
        "admin:portal_apitoken": ApiToken.objects.first().pk,
        "admin:portal_auditentry": AuditEntry.objects.first().pk,
    }
    return team, staff, pks


def url_of(name: str, pks: dict) -> str:
    if name in STATES:
        return STATES[name][0]
    if name in REFUSED:
        return REFUSED[name][0]
    try:
        return reverse(name)
    except Exception:  # a pattern that takes the row's pk (the admin's change pages call it object_id)
        pk = next(pk for prefix, pk in pks.items() if name.startswith(prefix))
        kwarg = "object_id" if name.startswith("admin:") else "pk"
        return reverse(name, kwargs={kwarg: pk})


def check(page, url: str, seconds: Counter, *, submit: str | None = None) -> dict:
    """The page's answer and axe's violations on it (a refusal's page too: 403 and 404 are pages people
    see), or on the form it comes back with once `submit`, its button, is pressed; `seconds` adds up
    the time spent loading and in axe."""
    started = time.monotonic()
    response = page.goto(url)
    if response is None or "text/html" not in response.headers.get("content-type", ""):
        return {"status": response.status if response else None, "violations": []}
    page.wait_for_function(SETTLED)
    if submit:
        with page.expect_navigation() as sent:
            page.get_by_role("button", name=submit, exact=True).click()
        response = sent.value
        page.locator("[data-error-summary]").wait_for()
        page.wait_for_function(SETTLED)
    loaded = time.monotonic()
    violations = page.evaluate(RUN_AXE)
    seconds["loading"] += loaded - started
    seconds["axe"] += time.monotonic() - loaded
    return {"status": response.status, "violations": violations}


@pytest.fixture(scope="module")
def axe_results(request, browser, django_db_setup, django_db_blocker):
    """{page: [(who, width, url, status, violations)]} for the pages this session selected.

    The module has a live server of its own, and its rows are flushed once at its end: the per-page
    tests then hold no database, which saves a flush per page (pytest-django's live_server gives
    every test that uses it a transactional database). No worker runs here: the pages that ask one
    (a container's page and its logs, the run form's images) show the sentence for a worker that did
    not answer, the same after NO_WORKER_WAIT as after the 3 and 5 s a page waits for a worker."""
    need_axe()
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec") and "name" in item.callspec.params
    ]
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        for name in ("IMAGES_WORKER_TIMEOUT_SECONDS", "LOGS_WORKER_TIMEOUT_SECONDS"):
            patch.setattr(container_views, name, NO_WORKER_WAIT)
        server = LiveServer("localhost")
        try:
            yield walk(browser, server.url, selected, *made_rows())
        finally:
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


def walk(browser, base_url: str, selected: list[str], team, staff, pks: dict) -> dict[str, list]:
    """Each person opens each selected page at each width, in one signed-in context of their own."""
    started, seconds = time.monotonic(), Counter()
    people = {"member": team.member.username, "staff": staff.username, "signed out": None}
    results: dict[str, list] = {name: [] for name in selected}
    for who, username in people.items():
        context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, base_url=base_url)
        context.set_default_timeout(30_000)
        context.add_init_script(path=AXE)  # in every document, before its own scripts: no <script> tag the CSP stops
        context.route("**/*", nothing_changed)
        page = context.new_page()
        if username:
            login(page, username, PASSWORD)
        names = [n for n in selected if (n == "login") == (username is None)]
        if who == "member":
            names = [n for n in names if n not in STAFF_PAGES and n not in REFUSED]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for name in names:
                url = url_of(name, pks)
                answer = check(page, url, seconds, submit=REFUSED[name][1] if name in REFUSED else None)
                results[name].append((who, width, url, answer["status"], answer["violations"]))
        context.close()
    seconds["all"] = time.monotonic() - started
    print_totals(results, seconds)
    return results


def print_totals(results: dict, seconds: Counter) -> None:
    runs = sum(len(answers) for answers in results.values())
    print(
        f"\naxe-core on {len(results)} pages, {runs} runs (people x widths): {seconds['all']:.1f} s,"
        f" {seconds['loading']:.1f} s of them loading pages, {seconds['axe']:.1f} s in axe"
    )
    print("nodes per impact; a page answered other than 200 says so after them")
    print(f"{'page':42} {'who':10} {'width':>5} " + " ".join(f"{impact:>8}" for impact in IMPACTS))
    for name, answers in sorted(results.items()):
        for who, width, _url, status, violations in answers:
            counts = Counter()
            for violation in violations:
                counts[violation["impact"]] += len(violation["targets"])
            line = f"{name:42} {who:10} {width:5} " + " ".join(f"{counts[impact]:8}" for impact in IMPACTS)
            print(line + ("" if status == 200 else f"  ({status})"))


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in PAGES])
def test_no_serious_or_critical_accessibility_violation(axe_results, name):
    answers = axe_results[name]
    expected = STATES[name][1] if name in STATES else 400 if name in REFUSED else 200
    assert any(status == expected for _, _, _, status, _ in answers), f"{name} answered nobody {expected}: {answers}"
    for who, _width, url, status, _ in answers:
        # members are refused the staff's pages; everyone else gets what the test asks
        assert status == expected or (who == "member" and status == 403), f"{url} answered {status} to {who}"
    problems = [
        f"{url} as {who} at {width} px: {violation['impact']} {violation['id']} ({violation['help']}) on "
        + ", ".join(violation["targets"][:8])
        + (f" and {len(violation['targets']) - 8} more" if len(violation["targets"]) > 8 else "")
        + f"; the first: {violation['html']}"
        for who, width, url, _, violations in answers
        for violation in violations
        if violation["impact"] in FAILING
    ]
    assert not problems, "axe found serious or critical violations:\n" + "\n".join(problems)
