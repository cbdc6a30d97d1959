"""A script follows a batch's operations in one request: `GET /api/v1/operations/?id=...` (comma-separated,
at most 100), with `status=` to read only those still unfinished; another team's ids find nothing."""

import pytest

from networks.models import Operation
from tests.apiclient import assert_error


def made(team, names: list[str]) -> list[int]:
    response = team.api().post("networks/batch/", [{"name": name} for name in names])
    assert response.status_code == 202, response.content
    return [result["operation"]["id"] for result in response.json()["results"]]


def test_a_batch_is_followed_in_one_request(team):
    ids = made(team, ["web", "db", "cache"])
    made(team, ["other"])  # not asked for
    Operation.objects.filter(pk=ids[1]).update(status=Operation.Status.SUCCEEDED)
    listed = team.api().get("operations/", {"id": ",".join(map(str, ids))}).json()
    assert sorted(op["id"] for op in listed["results"]) == sorted(ids)

    unfinished = team.api().get("operations/?status=queued&status=running&id=" + ",".join(map(str, ids))).json()
    assert sorted(op["id"] for op in unfinished["results"]) == sorted([ids[0], ids[2]])
    assert unfinished["count"] == 2


def test_another_teams_operations_are_not_found_by_id(team, other_team):
    theirs = made(other_team, ["theirs"])
    ours = made(team, ["ours"])
    listed = team.api().get("operations/", {"id": f"{theirs[0]},{ours[0]}"}).json()
    assert [op["id"] for op in listed["results"]] == ours


@pytest.mark.parametrize("value", ["1,x", "-3", str(2**64), "0", "1,²", ",".join(str(i) for i in range(1, 102))])
def test_ids_no_operation_can_have_or_too_many_are_a_400(team, value):
    error = assert_error(team.api().get("operations/", {"id": value}), 400, field="id")
    assert error["message"]
