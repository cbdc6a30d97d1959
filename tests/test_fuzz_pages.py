"""No input makes a page answer 500: hypothesis fills every page's query string and every form it shows.

The pages are every URL pattern outside the admin and the API (a new page fails here until it is
listed in PAGE_KWARGS), with ids of the team's own rows. The forms are found in the pages' HTML
(their method, action and field names), so a new form is fuzzed without being named. Values are
hostile on purpose: huge and negative numbers, unicode, NUL, empty, 10,000 characters, repeated keys
(arrays), ids of real rows, sent with and without htmx's headers, as a member of the team and as its
owner. Every field of every form also gets each of EDGES: a NUL alone and inside text, 10,000
characters, numbers no id can be.

Bounded and deterministic: EXAMPLES per page, FORM_EXAMPLES per form plus each of its fields set to
each of EDGES, derandomized, no shrinking. Nothing reaches a
worker: the test transaction never commits, so nothing is enqueued, and the one page that waits for
a worker's answer (`network_inspect`, Docker's own view) is fuzzed on a network that has no Docker id.
"""

from __future__ import annotations

import html.parser
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from networks.models import Container, Network
from networks.services.registries import registry_login_set
from portal import tenancy
from portal.actors import Actor
from portal.models import Membership
from portal.services import membership_set, tenant_create
from tests.factories import make_container, make_network, make_operation, make_system_container
from tests.pages import page_routes
from webhooks.services.endpoints import endpoint_create, endpoint_ping

pytestmark = pytest.mark.django_db

EXAMPLES = 4  # per page, by GET and by POST
FORM_EXAMPLES = 10  # per form found in the pages, starting from the values it carries
EDGES = ["33", str(2**64), "²", "x" * 10_000, "\x00", "a\x00b"]  # and each field of each form gets each of these
SKIPPED_ACTIONS = {"/logout/"}  # logging out would end the fuzz, not find a 500
QUERY_NAMES = ["page", "cluster", "status", "q", "prefixlen", "subnet", "gateway", "port", "block", "select", "next"]
HTMX_TARGETS = ["live", "results", "port-answer", "inspect", "diagnose"]


HOSTILE = [
    *["", " ", "0", "-1", "1.5", "1e9", "NaN", "33", "64", "99", str(2**63), str(2**64), "9" * 40, "9" * 5000],
    *["²", "٣", "null", "[]", "a=b", "=x", "10.0.0.0/33", "\x00", "x" * 10_000, "<script>", "../../etc/passwd"],
]


def hostile_value(ids: list[str]) -> st.SearchStrategy:
    one = st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(ids),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=40),
    )
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))  # a list is the key repeated: an array


class FormFinder(html.parser.HTMLParser):
    """Every <form> of a page (method, action, its fields with the values the page fills in) and every link with a query."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: set[str] = set()
        self._form: dict | None = None
        self._select: str | None = None
        self._htmx: list[tuple[str, str, str, dict | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        for name in ("href", "hx-get"):
            if attrs.get(name, "").startswith("/") and "?" in attrs[name]:
                self.links.add(attrs[name])
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"), "data": {}}
            self._form["id"] = attrs.get("id")
            self.forms.append(self._form)
        # htmx asks with the values of the form it includes, and of its own form: for a POST the one it is in,
        # for a GET only the one it is (htmx 2's getInputValues): a GET from inside a form sends none of its fields.
        for method in ("get", "post"):
            if attrs.get(f"hx-{method}", "").startswith("/"):
                own = self._form if method == "post" or tag == "form" else None
                self._htmx.append((method, attrs[f"hx-{method}"], attrs.get("hx-include", ""), own))
        form = self._form
        if tag == "form":
            return
        elif form is None or tag not in ("input", "select", "textarea", "button", "option"):
            return
        elif tag == "option" and self._select:
            if self._select not in form["data"] or "selected" in attrs:
                form["data"][self._select] = attrs.get("value", "")
        elif attrs.get("name") and attrs["name"] != "csrfmiddlewaretoken":
            name = attrs["name"]
            if tag == "select":
                self._select = name
            elif attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs or name not in form["data"]:
                    form["data"][name] = attrs.get("value", "on")
            else:
                form["data"].setdefault(name, attrs.get("value", ""))

    def htmx_forms(self) -> list[dict]:
        by_id = {f"#{form['id']}": form for form in self.forms if form["id"]}
        return [
            {"method": method, "action": url, "data": (by_id.get(include) or form or {"data": {}})["data"]}
            for method, url, include, form in self._htmx
            if include in by_id or form is not None
        ]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@pytest.fixture
def rows(team):
    """The team's rows every page can be about: networks, containers, an operation, a registry login; a
    second team to switch to."""
    web = make_network(team, "web")
    make_network(team, "pending", status=Network.Status.CREATING)
    db = make_container(team, "db", networks=[web], status=Container.Status.EXITED)
    make_container(team, "app", status=Container.Status.EXITED)  # not on web: the connect form offers it
    membership_set(tenant=tenant_create(name="Second team"), user=team.member, role=Membership.Role.MEMBER)
    make_system_container(team)
    operation = make_operation(team, target="web", network=web)
    login = registry_login_set(
        actor=Actor.system("tests"), tenant=team.tenant, registry="registry.example.com", username="ci", password="pw"
    )
    hook, _ = endpoint_create(
        actor=Actor.system("tests"), tenant=team.tenant, url="http://127.0.0.1:9/hook", events=["network.*"]
    )
    endpoint_ping(actor=Actor.system("tests"), endpoint=hook)
    Network.objects.filter(pk=web.pk).update(docker_id="")  # the inspect page then asks no worker
    Container.objects.filter(pk=db.pk).update(docker_id="")  # nor its logs: "no log yet", after the query's checks
    return {
        "pk": {
            "networks:network_": web.pk,
            "networks:container_": db.pk,
            "networks:operation_": operation.pk,
            "networks:cluster_": team.cluster.pk,
            "networks:registry_login_": login.pk,
            "webhooks:webhook_": hook.pk,
            "membership_": Membership.objects.get(user=team.member, tenant=team.tenant).pk,
        },
        "container_pk": db.pk,
        "ids": [str(web.pk), str(db.pk), str(operation.pk), str(team.cluster.pk), str(team.tenant.pk)],
    }


def fill_route(route: str, name: str, rows: dict) -> str:
    def value(match):
        key = match.group(2)
        if key == "container_pk":
            return str(rows["container_pk"])
        if key == "action":
            return "restart"
        prefix = next(p for p in rows["pk"] if name.startswith(p))
        return str(rows["pk"][prefix])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def discover(client, rows) -> list[tuple[str, str, dict, list[str]]]:
    """What to fuzz: (method, path, the values the page would send, the names to fill with hostile values).

    Every page is asked with GET (its query string) and with POST: the forms found in the pages with
    the values they carry, and every page without a form of its own with every field name seen.
    """
    pages, forms, links = [], {}, {}
    for route, name in page_routes():
        path = fill_route(route, name, rows)
        pages.append(path)
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        finder = FormFinder()
        finder.feed(response.content.decode())
        for form in finder.forms + finder.htmx_forms():
            action = urlsplit(form["action"] or path).path
            if action not in SKIPPED_ACTIONS:
                forms.setdefault((form["method"], action), form["data"])
        for link in finder.links:
            link_path, _, query = link.partition("?")
            links.setdefault(link_path, set()).update(part.split("=", 1)[0] for part in query.split("&") if part)
    every_name = sorted({name for data in forms.values() for name in data} | set(QUERY_NAMES))
    targets = [(method, path, data, sorted(data) or every_name) for (method, path), data in forms.items()]
    for path in pages:
        names = sorted(set(QUERY_NAMES) | links.get(path, set()) | set(forms.get(("get", path), {})))
        targets.append(("get", path, {}, names))
        if ("post", path) not in forms and path not in SKIPPED_ACTIONS:
            targets.append(("post", path, {}, every_name))
    return targets


def fuzz(client, *, method: str, path: str, base: dict, names: list[str], ids: list[str], seen: list) -> None:
    """`base` (a form's own values, or nothing) with one to three of `names` set to hostile values."""
    values = hostile_value(ids)
    params = st.dictionaries(st.sampled_from(names), values, min_size=1, max_size=min(len(names), 3))
    headers = st.one_of(
        st.just({}), st.sampled_from(HTMX_TARGETS).map(lambda target: {"HX-Request": "true", "HX-Target": target})
    )

    @settings(
        max_examples=FORM_EXAMPLES if base else EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(params=params, headers=headers)
    def one(params, headers):
        data = {**base, **params}
        response = getattr(client, method)(path, data, headers=headers)
        seen.append((method, path, response.status_code))
        assert response.status_code < 500, (method, path, data, headers, response.content[:2000])

    if base:  # a form: each of its fields also gets each edge value, the rest of the form as the page filled it
        for name in names:
            for value in EDGES:
                one = example(params={name: value}, headers={})(one)
    one()


@pytest.mark.parametrize("role", ["member", "owner"])
def test_no_page_or_form_answers_500(client, team, rows, role):
    client.raise_request_exception = False  # a crash must show as the 500 a browser would get
    client.force_login(getattr(team, role))  # an owner also sees the members' and registry logins' forms
    back_to_the_team = {"tenant": team.tenant.pk}  # the fuzz may switch teams: each target starts in this one
    client.post("/tenant/switch/", back_to_the_team)
    targets = discover(client, rows)
    seen: list = []
    for method, path, base, names in targets:
        if client.session.get(tenancy.SESSION_KEY) != team.tenant.pk:  # a read, not a request per target
            client.post("/tenant/switch/", back_to_the_team)
        fuzz(client, method=method, path=path, base=base, names=names, ids=rows["ids"], seen=seen)
    forms = sorted(f"{method.upper()} {path}" for method, path, base, _ in targets if base)
    print(f"page fuzz as {role}: {len(targets)} targets, {len(seen)} requests; forms: {', '.join(forms)}")
    assert len(targets) >= 60 and len(forms) >= 8, targets
