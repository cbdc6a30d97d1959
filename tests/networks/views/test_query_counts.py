"""The pages make the same number of SQL queries for a team with 5 networks as for one with 200 (or 1,000):
no page reads row by row (tests/pages.py `populate` makes the rows: containers, shares both ways,
operations finished and not)."""

import pytest

from tests.factories import make_team
from tests.pages import populate
from tests.support import query_counts

pytestmark = pytest.mark.django_db

HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "results"}
HTMX_LIVE = {"HX-Request": "true", "HX-Target": "live"}


def page_counts(client, monkeypatch, size: int) -> dict:
    team = make_team()
    made = populate(team, size)
    network, shared, container, operation = made["network"], made["shared"], made["container"], made["operation"]
    # The inspect part asks a worker for `docker network inspect`; no worker runs here.
    monkeypatch.setattr("networks.views.networks.network_inspect", lambda network, timeout: {"Name": network.name})
    client.force_login(team.owner)
    pages = {
        "dashboard": "/",
        "dashboard part": ("/", HTMX_LIVE),
        "network list": "/networks/",
        "network list, page 2": "/networks/?page=2",
        "network list part": ("/networks/?q=net&status=active&status=creating", HTMX_RESULTS),
        "network list, shared only": "/networks/?shared=true",
        "network detail": f"/networks/{network.pk}/",
        "network status": f"/networks/{network.pk}/status/",
        "network inspect": f"/networks/{network.pk}/inspect/",
        "shared network detail": f"/networks/{shared.pk}/",
        "container list": "/containers/",
        "container list part": ("/containers/?status=running", HTMX_RESULTS),
        "container detail": f"/containers/{container.pk}/",
        "container status": f"/containers/{container.pk}/status/",
        "operation list": "/operations/",
        "operation progress": f"/operations/{operation.pk}/progress/",
        "operation row": f"/operations/{operation.pk}/row/",
    }
    requests = {}
    for name, page in pages.items():
        path, headers = page if isinstance(page, tuple) else (page, {})
        requests[name] = lambda path=path, headers=headers: client.get(path, headers=headers)
    return query_counts(requests)


def test_every_page_makes_as_many_queries_for_200_networks_as_for_5(client, monkeypatch):
    small = page_counts(client, monkeypatch, 5)
    large = page_counts(client, monkeypatch, 200)
    assert all(status == 200 for status, _ in small.values()), small
    assert large == small


def test_1000_networks_too(client, monkeypatch):
    small = page_counts(client, monkeypatch, 5)
    assert page_counts(client, monkeypatch, 1000) == small
