"""`overlay apply` makes a plan's networks in one request (`POST /api/v1/networks/batch/`) and follows them a
round at a time: a read of the first unfinished, held by the portal until it ended (`?wait=`), then one
request for those still unfinished (`GET /api/v1/operations/?id=...&status=queued&status=running`); each
network made is reported, and a refused or failed one stops the plan with its own sentence."""

from __future__ import annotations

import json

import httpx
import pytest
from overlay_cli import api as client_api
from overlay_cli import output
from overlay_cli.apply import Step, create_together
from overlay_cli.config import Profile

PROFILE = Profile(name="default", url="http://portal.invalid", token="op_secret", tenant="blue")


def operation(pk: int, status: str, error: str = "") -> dict:
    return {"id": pk, "status": status, "error": error, "progress": [], "waiting_for": ""}


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    monkeypatch.setattr(output, "POLL_SECONDS", 0)


def portal(
    seen: list[httpx.Request],
    rounds: list[list[dict]],
    ends: list[dict],
    refused: set[str] = frozenset(),
    held: bool = True,  # the portal holds a read of one operation until it ends (an ETag says so)
):
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            results = []
            for index, body in enumerate(json.loads(request.content)):
                name = body["name"]
                error = {"code": "name_taken", "message": f"{name} is taken."} if name in refused else None
                made = None if error else operation(100 + index, "queued")
                results.append({"index": index, "name": name, "operation": made, "error": error})
            return httpx.Response(202, json={"results": results})
        if request.url.path.rstrip("/").split("/")[-1].isdigit():  # one operation
            pk = int(request.url.path.rstrip("/").split("/")[-1])
            if held:  # held until it ended
                return httpx.Response(200, json=next(op for op in ends if op["id"] == pk), headers={"ETag": '"e"'})
            now = [op for op in (rounds[0] if rounds else []) if op["id"] == pk]  # answered at once, as it is
            return httpx.Response(200, json=now[0] if now else next(op for op in ends if op["id"] == pk))
        if "status" in request.url.params:
            return httpx.Response(200, json={"results": rounds.pop(0) if rounds else []})
        return httpx.Response(200, json={"results": ends})

    return client_api.Api(PROFILE, transport=httpx.MockTransport(answer))


def steps(*names: str) -> list[Step]:
    return [Step("+", "create", name, body={"name": name}) for name in names]


def test_the_creates_go_in_one_request_and_are_followed_together(capsys):
    seen: list[httpx.Request] = []
    api = portal(
        seen, rounds=[[operation(101, "running")]], ends=[operation(100, "succeeded"), operation(101, "succeeded")]
    )

    create_together(api, steps("web", "db"))

    posts = [r for r in seen if r.method == "POST"]
    assert len(posts) == 1 and posts[0].url.path == "/api/v1/networks/batch/"
    assert "Idempotency-Key" in posts[0].headers
    follows = [r for r in seen if r.method == "GET" and "id" in r.url.params]
    assert follows[0].url.params["id"] == "100,101"
    assert follows[0].url.params.get_list("status") == ["queued", "running"]
    assert follows[1].url.params["id"] == "101", "the next round asks only for what was unfinished"
    held = [r for r in seen if r.method == "GET" and "id" not in r.url.params]
    assert [(r.url.path, r.url.params["wait"]) for r in held] == [
        ("/api/v1/operations/100/", "30"),  # each round waits on the first unfinished, held until it ended
        ("/api/v1/operations/101/", "30"),
    ]
    assert capsys.readouterr().out.splitlines() == ["create web: done", "create db: done"]


def test_a_portal_that_holds_no_reads_is_asked_again_after_a_pause(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(output, "POLL_SECONDS", 0.5)
    monkeypatch.setattr(output.time, "sleep", slept.append)
    seen: list[httpx.Request] = []
    api = portal(seen, rounds=[[operation(100, "running")]], ends=[operation(100, "succeeded")], held=False)

    assert output.wait_all(api, [operation(100, "queued")]) == [operation(100, "succeeded")]
    assert slept == [0.5]  # once, after the read that came back at once with the operation still running


def test_a_refused_and_a_failed_network_stop_the_plan_each_with_its_sentence(capsys):
    seen: list[httpx.Request] = []
    api = portal(seen, rounds=[], ends=[operation(100, "succeeded"), operation(102, "failed", "the pool is full")],
                 refused={"db"})  # fmt: skip

    with pytest.raises(client_api.ApiError) as refusal:
        create_together(api, steps("web", "db", "cache"))

    assert refusal.value.message == "db: db is taken.; cache: the pool is full"
    assert capsys.readouterr().out.splitlines() == ["create web: done"]
