"""`overlay logs` on httpx's MockTransport (one module's unit tests: no portal): what it asks the logs API,
where each line goes, following over answers until Ctrl-C, and its sentences. The live run is in
test_tutorial.py."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from overlay_cli import api as client_api
from overlay_cli import cli, context, logs

STAMP = "2026-12-05T10:00:0{}.123456789Z"
CONTAINERS = {"results": [{"id": 7, "name": "wordpress", "status": "running", "docker_id": "abc123"}]}


def line(second: int, text: str, stream: str = "stdout", timestamps: bool = True) -> dict:
    return {"time": STAMP.format(second) if timestamps else None, "stream": stream, "line": text}


class Portal:
    """Answers the containers list, then each logs request with the next of `answers` (a dict, or a
    callable raising KeyboardInterrupt as Ctrl-C would); records the logs requests' query parameters."""

    def __init__(self, *answers: dict | httpx.Response | Callable[[], None]):
        self.answers = list(answers)
        self.asked: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/containers/":
            return httpx.Response(200, json=CONTAINERS)
        assert request.url.path == "/api/v1/containers/7/logs/", request.url
        self.asked.append(dict(request.url.params))
        answer = self.answers.pop(0)
        if callable(answer):
            answer()
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("OVERLAY_URL", "http://portal.invalid")
    monkeypatch.setenv("OVERLAY_TOKEN", "op_secret")
    monkeypatch.delenv("OVERLAY_PROFILE", raising=False)
    slept: list[float] = []
    monkeypatch.setattr(logs.time, "sleep", slept.append)

    def overlay(portal: Portal, *args: str) -> tuple[int, str, str, list[float]]:
        monkeypatch.setattr(
            context, "Api", lambda profile: client_api.Api(profile, transport=httpx.MockTransport(portal))
        )
        with pytest.raises(SystemExit) as exited:
            cli.main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return int(exited.value.code or 0), out, err, slept

    return overlay


def test_tail_and_since_are_sent_and_each_stream_goes_to_its_own(run):
    portal = Portal(
        {"container": "wordpress", "next_since": STAMP.format(2),
         "lines": [line(1, "GET / 200", timestamps=False), line(2, "AH00558: warning", "stderr", timestamps=False)]}
    )  # fmt: skip
    code, out, err, _ = run(portal, "logs", "--tail", "5", "--since", "1h30m", "wordpress")
    assert (code, out, err) == (0, "GET / 200\n", "AH00558: warning\n")
    assert portal.asked == [{"tail": "5", "timestamps": "false", "since": "5400.000"}]


def test_timestamps_prefix_dockers_time_and_since_takes_an_iso_or_unix_time(run):
    answer = {"container": "wordpress", "next_since": STAMP.format(1), "lines": [line(1, "ready")]}
    code, out, _, _ = run(Portal(answer), "logs", "-t", "--since", "2026-12-05T10:00:00Z", "wordpress")
    assert (code, out) == (0, f"{STAMP.format(1)} ready\n")
    run(portal := Portal(answer, answer), "logs", "--since", "1764928800", "wordpress")
    run(portal, "logs", "--since", "2026-12-05", "wordpress")
    assert [asked["since"] for asked in portal.asked] == ["2025-12-05T10:00:00.000000Z", "2026-12-05T00:00:00Z"]
    assert portal.asked[0] == {"tail": "10000", "timestamps": "false", "since": "2025-12-05T10:00:00.000000Z"}


def test_tail_zero_prints_nothing_and_bad_flags_are_usage_errors(run):
    portal = Portal({"container": "wordpress", "next_since": STAMP.format(1), "lines": [line(1, "old")]})
    assert run(portal, "logs", "--tail", "0", "wordpress")[:2] == (0, "")
    assert portal.asked[0]["tail"] == "1"
    for flag, value in (("--tail", "ten"), ("--tail", "10001"), ("--since", "soon")):
        code, _, err, _ = run(Portal(), "logs", flag, value, "wordpress")
        assert code == 2 and f"Invalid value for {flag}:" in err, err
    assert "a duration such as 42m" in err


def test_follow_passes_each_next_since_on_until_ctrl_c(run):
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    portal = Portal(
        {"container": "wordpress", "next_since": STAMP.format(1), "lines": [line(1, "one")]},
        {"container": "wordpress", "next_since": STAMP.format(1), "lines": []},  # 20 s and nothing new
        {"container": "wordpress", "next_since": STAMP.format(3), "lines": [line(2, "two"), line(3, "oops", "stderr")]},
        ctrl_c,
    )
    code, out, err, _ = run(portal, "logs", "-f", "-t", "--tail", "1", "wordpress")
    assert (code, out, err) == (0, f"{STAMP.format(1)} one\n{STAMP.format(2)} two\n", f"{STAMP.format(3)} oops\n")
    follow = {"tail": "10000", "timestamps": "true", "follow": "true"}
    assert portal.asked == [
        {"tail": "1", "timestamps": "true"},
        {**follow, "since": STAMP.format(1)},
        {**follow, "since": STAMP.format(1)},
        {**follow, "since": STAMP.format(3)},
    ]


def error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "field": None}}, headers=headers)


NO_WORKER = "The portal's worker did not answer in time. The cluster may be busy: try again in a moment."


def test_a_503_while_following_is_waited_out_with_a_note(run):
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    portal = Portal(
        {"container": "wordpress", "next_since": STAMP.format(1), "lines": []},
        error(503, "worker_unavailable", NO_WORKER, **{"Retry-After": "7"}),
        {"container": "wordpress", "next_since": STAMP.format(2), "lines": [line(2, "back")]},
        ctrl_c,
    )
    code, out, err, slept = run(portal, "logs", "--follow", "wordpress")
    assert (code, out, slept) == (0, "back\n", [7.0])
    assert err == f"{NO_WORKER} Still following: asking again in 7 s.\n"
    assert portal.asked[1] == portal.asked[2]  # the same since again: nothing missed


@pytest.mark.parametrize(
    ("answer", "sentence"),
    [
        (
            error(409, "no_logs", "wordpress has not started on a node, so it has no log yet."),
            "wordpress has not started on a node, so it has no log yet.\n",
        ),
        (error(503, "worker_unavailable", NO_WORKER, **{"Retry-After": "5"}), f"{NO_WORKER}\n"),
    ],
)
def test_without_follow_a_refusal_is_the_portals_sentence_and_exit_1(run, answer, sentence):
    code, out, err, slept = run(Portal(answer), "logs", "wordpress")
    assert (code, out, err, slept) == (1, "", sentence, [])
