"""The client follows one operation by reads the portal holds until it changes: the first read takes the
operation's ETag, each next one sends it back (If-None-Match, ?wait=) and shows what came; a 304 (the wait
ran out unchanged) is asked again. A portal that sends no ETag is read again after a pause. The real
portal's side is tests/networks/api/test_operation_follow.py; the real run, tests/client/test_tutorial.py."""

from __future__ import annotations

import httpx
import pytest
from overlay_cli import api as client_api
from overlay_cli import output
from overlay_cli.config import Profile

PROFILE = Profile(name="default", url="http://portal.invalid", token="op_secret", tenant="blue")


def operation(status: str, *steps: str, error: str = "") -> dict:
    progress = [{"at": "2026-12-05T10:00:00+00:00", "message": step} for step in steps]
    return {
        "id": 7,
        "status": status,
        "error": error,
        "progress": progress,
        "waiting_for": "",
        "kind": "network_create",
    }


def portal(answers: list[httpx.Response], seen: list[httpx.Request]) -> client_api.Api:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return client_api.Api(PROFILE, transport=httpx.MockTransport(answer))


def tagged(body: dict, tag: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers={"ETag": tag})


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    pauses: list[float] = []
    monkeypatch.setattr(output.time, "sleep", pauses.append)
    return pauses


def test_each_change_comes_from_a_held_read_that_sends_the_last_etag(slept):
    seen: list[httpx.Request] = []
    api = portal(
        [
            tagged(operation("running", "Queued."), '"a"'),
            httpx.Response(304, headers={"ETag": '"a"'}),  # the hold ran out: nothing new
            tagged(operation("running", "Queued.", "Reserving 10.0.3.0/24 in Consul."), '"b"'),
            tagged(operation("succeeded", "Queued.", "Reserving 10.0.3.0/24 in Consul.", "Created."), '"c"'),
        ],
        seen,
    )

    done = output.wait(api, operation("queued"))

    assert done["status"] == "succeeded" and done["progress"][-1]["message"] == "Created."
    assert [r.headers.get("If-None-Match") for r in seen] == [None, '"a"', '"a"', '"b"']
    assert [r.url.params.get("wait") for r in seen] == [None, "30", "30", "30"]
    assert slept == []  # no pause: the portal held each read


def test_a_portal_without_etags_is_read_again_after_a_pause(slept):
    seen: list[httpx.Request] = []
    api = portal(
        [
            httpx.Response(200, json=operation("running")),
            httpx.Response(200, json=operation("failed", error="No.")),
        ],
        seen,
    )

    with pytest.raises(client_api.ApiError, match="No."):
        output.wait(api, operation("queued"))
    assert [r.headers.get("If-None-Match") for r in seen] == [None, None]
    assert slept == [output.POLL_SECONDS]
