"""plumbing/database_retry.py: a request that meets a lost database connection is made again once
when that is safe, and is otherwise answered 503 with Retry-After, never a 500.

The views here raise the errors a cut connection raises; the whole middleware stack of the settings
runs around them (the cut itself, on PostgreSQL, is tests/resilience/test_database_cut.py)."""

from __future__ import annotations

import json
import sqlite3

import psycopg.errors
import pytest
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.test import Client, override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

LOST = OperationalError("terminating connection due to administrator command")
DOWN_API = (
    "The portal's database is not answering right now (it is restarting or failing over). Try again in 5 seconds."
)
UNKNOWN_API = (
    "The portal lost its database connection while handling this request, so it may or may not have been done. "
    "Look before sending it again, or send it with an Idempotency-Key, which makes sending it again safe."
)
UNKNOWN_PAGE = (
    "The portal lost its database connection while handling this request, so it may or may not have been done. "
    "In 5 seconds, look whether your change was made before making it again."
)

BUSY = (
    "Another change holds a record this request needs and did not let go in time, so nothing was done. Try again "
    "in 5 seconds; if it keeps happening, an admin should look for a long transaction in PostgreSQL "
    "(docs/operations.md)."
)


def lock_wait_given_up() -> OperationalError:
    """What Django raises for PostgreSQL's "canceling statement due to lock timeout" (lock_not_available)."""
    error = OperationalError("canceling statement due to lock timeout")
    error.__cause__ = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
    return error


def sqlite_busy() -> OperationalError:
    """What Django raises when SQLite's busy timeout ran out."""
    cause = sqlite3.OperationalError("database is locked")
    cause.sqlite_errorcode = sqlite3.SQLITE_BUSY  # as sqlite3 sets it (3.11)
    error = OperationalError("database is locked")
    error.__cause__ = cause
    return error


runs: list[str] = []
faults: list[BaseException] = []  # raised one by one, a run each, then the view answers


@csrf_exempt
def echo(request):
    runs.append(request.method)
    if faults:
        raise faults.pop(0)
    return JsonResponse({"body": json.loads(request.body) if request.body else None})


def page(request):
    runs.append(request.method)
    if faults:
        raise faults.pop(0)
    return HttpResponse("<p>fine</p>")


urlpatterns = [path("api/v1/probe/", echo), path("probe/", csrf_exempt(page))]


@pytest.fixture(autouse=True)
def fresh():
    runs.clear()
    faults.clear()
    yield
    faults.clear()


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def error_of(response) -> dict:
    assert response.headers["Content-Type"] == "application/json"
    return response.json()["error"]


def test_a_read_that_meets_a_lost_connection_is_made_again_once(client):
    faults.append(LOST)
    response = client.get("/api/v1/probe/")
    assert response.status_code == 200
    assert runs == ["GET", "GET"]


def test_a_read_that_meets_it_twice_is_answered_503_in_the_api_shape(client):
    faults.extend([LOST, InterfaceError("connection already closed")])
    response = client.get("/api/v1/probe/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert error_of(response) == {"code": "database_unavailable", "message": DOWN_API, "field": None}
    assert runs == ["GET", "GET"]


def test_a_change_without_an_idempotency_key_is_not_made_again(client):
    faults.append(LOST)
    response = client.post("/api/v1/probe/", {"name": "web"}, content_type="application/json")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert error_of(response) == {"code": "database_unavailable", "message": UNKNOWN_API, "field": None}
    assert runs == ["POST"]


def test_a_change_with_an_idempotency_key_is_made_again_with_its_body(client):
    faults.append(LOST)
    response = client.post(
        "/api/v1/probe/", {"name": "web"}, content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 200
    assert response.json() == {"body": {"name": "web"}}
    assert runs == ["POST", "POST"]


def test_a_page_answers_a_short_page_with_the_sentence(client):
    faults.append(LOST)
    response = client.post("/probe/", {"name": "web"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.headers["Content-Type"].startswith("text/html")
    assert UNKNOWN_PAGE in response.content.decode()
    assert runs == ["POST"]


def test_a_page_read_is_made_again(client):
    faults.append(LOST)
    assert client.get("/probe/").status_code == 200
    assert runs == ["GET", "GET"]


class LosesItsConnectionOnce:
    """A middleware that meets a lost connection (as the session or the tenant lookup would)."""

    lost = 0

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if LosesItsConnectionOnce.lost < 1:
            LosesItsConnectionOnce.lost += 1
            raise LOST
        return self.get_response(request)


def test_a_fault_in_a_middleware_is_seen_too(client):
    LosesItsConnectionOnce.lost = 0
    middleware = [*settings.MIDDLEWARE, f"{__name__}.LosesItsConnectionOnce"]
    with override_settings(MIDDLEWARE=middleware):
        response = client.get("/api/v1/probe/")
    assert response.status_code == 200
    assert LosesItsConnectionOnce.lost == 1 and runs == ["GET"]


def test_an_error_of_the_request_itself_is_not_a_database_fault(client):
    """What the request did (a broken constraint) is not waited out: it stays a 500 for a bug report."""
    faults.append(IntegrityError("duplicate key value violates unique constraint"))
    assert client.get("/api/v1/probe/").status_code == 500
    assert runs == ["GET"]


@pytest.mark.parametrize("fault", [lock_wait_given_up, sqlite_busy])
def test_a_lock_waited_out_is_not_made_again_and_says_nothing_was_done(client, fault):
    """Its transaction was rolled back; waiting as long again would only hold another thread meanwhile."""
    faults.append(fault())
    response = client.post(
        "/api/v1/probe/", {"name": "web"}, content_type="application/json", headers={"Idempotency-Key": "k-2"}
    )
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert error_of(response) == {"code": "database_busy", "message": BUSY, "field": None}
    assert runs == ["POST"]

    faults.append(fault())
    response = client.get("/probe/")
    assert response.status_code == 503 and BUSY in response.content.decode()
    assert runs == ["POST", "GET"]


def test_a_lock_waited_out_in_the_second_run_says_so_too(client):
    faults.extend([LOST, lock_wait_given_up()])
    response = client.get("/api/v1/probe/")
    assert response.status_code == 503
    assert error_of(response)["code"] == "database_busy"
    assert runs == ["GET", "GET"]
