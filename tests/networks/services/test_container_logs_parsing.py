"""The logs' pure parts: the query (tail, since, timestamps, follow), Docker's times, secret masking."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from networks.models import Container
from networks.services.containers.logs import (
    MAX_TAIL,
    LogQuery,
    docker_stamp,
    logs_as_text,
    masked,
    parse_log_query,
    secret_values,
)
from networks.services.containers.specs import MASK
from plumbing.errors import ServiceError

NOW = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)


def query(**params):
    return parse_log_query(params, now=NOW)


def test_the_defaults_are_the_last_200_lines_with_their_times():
    assert query() == LogQuery(tail=200, since=None, timestamps=True, follow=False)


def test_tail_since_timestamps_follow():
    assert query(tail="5", since="2026-12-05T09:00:00Z", timestamps="0", follow="true") == LogQuery(
        tail=5, since="2026-12-05T09:00:00.000000000Z", timestamps=False, follow=True
    )
    assert query(tail=str(MAX_TAIL)).tail == MAX_TAIL


def test_since_as_seconds_ago_and_other_zones_and_nanoseconds():
    assert query(since="300").since == "2026-12-05T09:55:00.000000000Z"
    assert query(since="2026-12-05T11:00:00+01:00").since == "2026-12-05T10:00:00.000000000Z"
    assert query(since="2026-12-05T09:00:00").since == "2026-12-05T09:00:00.000000000Z"  # no zone: UTC
    # next_since round-trips at Docker's nanoseconds, so that following misses nothing and repeats nothing
    assert query(since="2026-12-05T09:00:00.123456789Z").since == "2026-12-05T09:00:00.123456789Z"


@pytest.mark.parametrize("tail", ["0", "-1", "10001", "abc", "1.5", "9" * 30])
def test_a_bad_tail_is_a_sentence_on_tail(tail):
    with pytest.raises(ServiceError) as excinfo:
        query(tail=tail)
    assert excinfo.value.field == "tail" and "from 1 to 10000" in excinfo.value.message
    assert excinfo.value.http_status == 400


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01T00:00:00Z", "-5", "1e9", "2026-12-05T25:00"])
def test_a_bad_since_is_a_sentence_on_since(since):
    with pytest.raises(ServiceError) as excinfo:
        query(since=since)
    assert excinfo.value.field == "since" and "ISO time" in excinfo.value.message


def test_a_since_with_control_characters_is_not_repeated_in_the_sentence():
    with pytest.raises(ServiceError) as excinfo:
        query(since="\x00")
    assert excinfo.value.message.startswith("That is not a time")


@pytest.mark.parametrize("name", ["timestamps", "follow"])
def test_a_bad_flag_is_a_sentence(name):
    with pytest.raises(ServiceError) as excinfo:
        query(**{name: "maybe"})
    assert excinfo.value.field == name


@given(st.text(max_size=40))
def test_any_since_is_a_time_or_a_sentence(raw):
    try:
        since = query(since=raw).since
    except ServiceError as error:
        assert error.field == "since"
    else:
        assert since is None or (len(since) == 30 and since.endswith("Z"))


def test_docker_times_are_padded_so_that_they_sort():
    assert docker_stamp("2026-12-05T10:00:00.5Z") == "2026-12-05T10:00:00.500000000Z"
    assert docker_stamp("2026-12-05T10:00:00Z") == "2026-12-05T10:00:00.000000000Z"
    assert docker_stamp("2026-12-05T10:00:00.123456789Z") < docker_stamp("2026-12-05T10:00:00.5Z")


def test_secret_values_of_at_least_four_characters_are_masked():
    container = Container(
        environment=[
            {"name": "PASSWORD", "value": "", "secret": True},
            {"name": "FLAG", "value": "", "secret": True},
            {"name": "PLAIN", "value": "hunter22"},
        ]
    )
    docker_env = {"PASSWORD": "hunter2", "FLAG": "1", "PLAIN": "hunter22", "PATH": "/bin"}
    secrets = secret_values(container, docker_env)
    assert secrets == ["hunter2"]  # a short value would mask every "1"; a plain value is no secret
    assert masked("login with hunter2 (try 1)", secrets) == f"login with {MASK} (try 1)"
    assert masked("hunter2hunter2", secrets) == MASK * 2


def test_longer_secrets_are_masked_first():
    container = Container(environment=[{"name": "A", "secret": True}, {"name": "B", "secret": True}])
    secrets = secret_values(container, {"A": "abcd", "B": "abcdefgh"})
    assert masked("abcdefgh", secrets) == MASK


def test_the_download_reads_like_docker_logs():
    answer = {
        "lines": [{"time": "T1", "stream": "stdout", "line": "a"}, {"time": None, "stream": "stderr", "line": ""}]
    }
    assert logs_as_text(answer) == "T1 a\n\n"
