"""Following one operation without polling: its answer carries the ETag of its body; If-None-Match with
that tag answers 304 while nothing the client would see has changed, and with ?wait= the answer is held
until something has (a step, a status), or until the operation ends when no tag is sent."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from networks.models import Operation
from networks.services.operation_notes import operation_progress
from tests.factories import make_operation

pytestmark = pytest.mark.django_db(transaction=True)  # the step is written by another thread, as a worker's


def url(operation: Operation, wait: float | None = None) -> str:
    return f"/api/v1/operations/{operation.pk}/" + ("" if wait is None else f"?wait={wait}")


def step_later(operation: Operation, message: str, delay: float = 0.3) -> threading.Thread:
    """A worker's step on the operation, written and announced `delay` seconds from now by another thread."""

    def step():
        try:
            operation_progress(operation=Operation.objects.get(pk=operation.pk), message=message)
        finally:
            connection.close()

    timer = threading.Timer(delay, step)
    timer.start()
    return timer


def test_the_etag_answers_304_until_the_operation_changes(team):
    api = team.api("member")
    operation = make_operation(team, status=Operation.Status.RUNNING)
    first = api.get(url(operation))
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"')

    unchanged = api.get(url(operation), HTTP_IF_NONE_MATCH=tag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == tag
    assert api.get(url(operation), HTTP_IF_NONE_MATCH=f'"other", W/{tag}').status_code == 304  # weak, in a list

    operation_progress(operation=operation, message="Creating the network in Docker.")
    changed = api.get(url(operation), HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["progress"][-1]["message"] == "Creating the network in Docker."


def test_a_held_answer_comes_with_the_next_step(team):
    api = team.api("member")
    operation = make_operation(team, status=Operation.Status.RUNNING)
    tag = api.get(url(operation)).headers["ETag"]
    timer = step_later(operation, "Reserving 10.0.9.0/24 in Consul.")
    held = api.get(url(operation, wait=30), HTTP_IF_NONE_MATCH=tag)
    timer.join()
    assert held.status_code == 200
    assert held.json()["progress"][-1]["message"] == "Reserving 10.0.9.0/24 in Consul."


def test_a_held_answer_is_304_when_nothing_changed_in_the_wait(team):
    api = team.api("member")
    operation = make_operation(team, status=Operation.Status.RUNNING)
    tag = api.get(url(operation)).headers["ETag"]
    held = api.get(url(operation, wait=0.3), HTTP_IF_NONE_MATCH=tag)
    assert held.status_code == 304 and held.headers["ETag"] == tag


def test_without_a_tag_the_wait_is_for_the_end(team):
    api = team.api("member")
    running = make_operation(team, status=Operation.Status.RUNNING)
    timer = step_later(running, "Creating the network in Docker.")
    held = api.get(url(running, wait=0.8))  # a step is no end: held until the wait ran out, then answered
    timer.join()
    assert held.status_code == 200 and held.json()["status"] == "running"
    assert held.json()["progress"][-1]["message"] == "Creating the network in Docker."

    ended = make_operation(team, status=Operation.Status.SUCCEEDED)
    assert api.get(url(ended, wait=60)).json()["status"] == "succeeded"  # at once


def test_a_bad_wait_is_refused_and_a_foreign_operation_is_not_found(team, other_team):
    api = team.api("member")
    operation = make_operation(team, status=Operation.Status.RUNNING)
    refused = api.get(url(operation, wait=121))
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "wait"
    foreign = make_operation(other_team, status=Operation.Status.RUNNING)
    assert api.get(url(foreign, wait=1), HTTP_IF_NONE_MATCH="*").status_code == 404
