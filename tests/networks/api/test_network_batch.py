"""Many networks in one request (POST /api/v1/networks/batch/): one operation each, each refusal at its own
place with the sentence a single create gets, the rest made; the whole list refused only when it is no list
of 1 to 100; Idempotency-Key, roles and tokens as every other create.

These run without a worker (the test transaction never commits, so nothing is enqueued); the round trip
through the real worker and cluster is in test_integration.py.
"""

import pytest

from networks.models import Network, Operation, SubnetAllocation
from networks.services.grants import cluster_grant
from portal.actors import Actor
from portal.models import AuditEntry
from portal.services import api_token_create
from tests.apiclient import Api, assert_error

pytestmark = pytest.mark.django_db


def batch(api, items, **kwargs):
    return api.post("networks/batch/", items, **kwargs)


def accepted(response) -> dict:
    assert response.status_code == 202, response.content[:500]
    return response.json()


def test_a_batch_makes_one_network_and_one_operation_each_in_order(team):
    body = accepted(batch(team.api(), [{"name": "web"}, {"name": "db", "subnet": "10.0.9.0/24"}, {"name": "cache"}]))
    assert (body["count"], body["made"], body["refused"]) == (3, 3, 0)
    assert [(r["index"], r["name"], r["error"]) for r in body["results"]] == [
        (0, "web", None),
        (1, "db", None),
        (2, "cache", None),
    ]
    operations = [r["operation"] for r in body["results"]]
    assert all(op["kind"] == "network.create" and op["status"] == "queued" for op in operations)
    assert [op["url"].endswith(f"/api/v1/operations/{op['id']}/") for op in operations] == [True] * 3
    subnets = {n.name: n.subnet for n in Network.objects.filter(tenant=team.tenant)}
    assert subnets == {"web": "10.0.0.0/24", "db": "10.0.9.0/24", "cache": "10.0.1.0/24"}
    assert SubnetAllocation.objects.filter(network__tenant=team.tenant).count() == 3
    # one change each, as a single create records it (the audit log and webhooks read these)
    entries = AuditEntry.objects.filter(tenant=team.tenant, action="network.create").order_by("pk")
    assert [e.details["operation"] for e in entries] == [op["id"] for op in operations]
    # each followed as a single create's operation is
    assert team.api("viewer").get(operations[1]["url"]).json()["target"] == "db"


def test_each_refusal_is_on_its_own_network_and_the_rest_are_made(team):
    team.network("taken")
    team.network("held", subnet="10.0.20.0/24")
    body = accepted(
        batch(
            team.api(),
            [
                {"name": "ok1"},
                {"name": "taken"},
                {"name": "clash", "subnet": "10.0.20.0/25"},
                {"name": "bad subnet", "subnet": "10.0.30.0/24"},
                {"name": "ok2", "mtu": "big"},
                {"name": "ok1"},
                {"nmae": "typo"},
                "web",
                {"name": "ok3", "cluster": 999999},
                {"name": "ok4"},
            ],
        )
    )
    assert (body["count"], body["made"], body["refused"]) == (10, 2, 8)
    errors = {r["index"]: r["error"] for r in body["results"] if r["error"]}
    assert {i: (e["code"], e["field"]) for i, e in errors.items()} == {
        1: ("name_taken", "name"),
        2: ("overlaps_network", "subnet"),
        3: ("invalid_name", "name"),
        4: ("invalid", "mtu"),
        5: ("name_repeated", "name"),
        6: ("unknown_field", "nmae"),
        7: ("batch_item_not_object", None),
        8: ("not_found", "cluster"),
    }, errors
    # the sentences a single create gets
    single = team.api().post("networks/", {"name": "taken"}).json()["error"]
    assert errors[1]["message"] == single["message"]
    assert errors[5]["message"] == (
        'The batch names "ok1" twice (items 0 and 5): each network needs a name of its own. '
        "Rename one, or leave it out."
    )
    made = [r for r in body["results"] if r["operation"]]
    assert [(r["index"], r["name"]) for r in made] == [(0, "ok1"), (9, "ok4")]
    assert all(r["error"] is None for r in made)
    assert set(Network.objects.filter(tenant=team.tenant).values_list("name", flat=True)) == {
        "taken", "held", "ok1", "ok4"
    }  # fmt: skip


def test_subnets_asked_twice_in_one_batch_clash_like_two_creates(team):
    body = accepted(
        batch(team.api(), [{"name": "a", "subnet": "10.0.40.0/24"}, {"name": "b", "subnet": "10.0.40.0/24"}])
    )
    assert body["results"][0]["error"] is None
    error = body["results"][1]["error"]
    assert (error["code"], error["field"]) == ("overlaps_network", "subnet") and 'network "a"' in error["message"]


def test_a_grant_with_room_for_some_makes_the_first_and_refuses_the_rest(team):
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=team.tenant, max_networks=3)
    team.network("old")
    body = accepted(
        batch(team.api(), [{"name": "bad name!"}, {"name": "n1"}, {"name": "n2"}, {"name": "n3"}, {"name": "n4"}])
    )
    assert [(r["name"], r["error"] and r["error"]["code"]) for r in body["results"]] == [
        ("bad name!", "invalid_name"),
        ("n1", None),
        ("n2", None),
        ("n3", "limit_reached"),
        ("n4", "limit_reached"),
    ]
    assert body["results"][3]["error"]["message"].startswith(
        f"{team.tenant.name} may have at most 3 networks on cluster {team.cluster.name} and has 1 and asks for 4 more."
    )
    assert Network.objects.filter(tenant=team.tenant).count() == 3


def test_a_full_pool_refuses_the_networks_past_it(team):
    team.cluster.address_pool = "10.9.0.0/23"
    team.cluster.save()
    body = accepted(batch(team.api(), [{"name": "a"}, {"name": "b"}, {"name": "c"}]))
    assert [r["error"] and r["error"]["code"] for r in body["results"]] == [None, None, "pool_exhausted"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"name": "web"}, "batch_not_list", "Send the networks as a JSON list"),
        ("web", "batch_not_list", "Send the networks as a JSON list"),
        ([], "batch_empty", "The batch is empty: send a list of 1 to 100 networks"),
        (
            [{"name": f"n{i}"} for i in range(101)],
            "batch_too_large",
            "A batch makes at most 100 networks and this one has 101.",
        ),
    ],
)
def test_the_whole_list_is_refused_only_when_it_is_no_list_of_1_to_100(team, body, code, message):
    error = assert_error(batch(team.api(), body), 400, code, field=None)
    assert error["message"].startswith(message)
    assert not Network.objects.filter(tenant=team.tenant).exists()


def test_a_hundred_networks_in_one_batch(team):
    body = accepted(batch(team.api(), [{"name": f"n{i}"} for i in range(100)]))
    assert body["made"] == 100 and Operation.objects.filter(tenant=team.tenant).count() == 100


def test_wait_is_refused_with_what_to_do(team):
    error = assert_error(batch(team.api(), [{"name": "a"}], params=None, QUERY_STRING="wait=5"), 400, "bad_wait")
    assert "Follow each operation's url" in error["message"]


def test_viewers_read_only_tokens_and_team_tokens(team, other_team):
    assert_error(batch(team.api("viewer"), [{"name": "v"}]), 403, "permission_denied")
    _, reader = api_token_create(actor=Actor.system("tests"), user=team.owner, name="reader", read_only=True)
    assert_error(batch(Api(reader), [{"name": "r"}]), 403, "read_only_token")
    _, viewer_token = api_token_create(actor=Actor.system("tests"), name="ci-v", team=team.tenant, role="viewer")
    assert_error(batch(Api(viewer_token), [{"name": "t"}]), 403, "permission_denied")
    _, member_token = api_token_create(actor=Actor.system("tests"), name="ci-m", team=team.tenant, role="member")
    assert accepted(batch(Api(member_token), [{"name": "ci1"}, {"name": "ci2"}]))["made"] == 2
    assert accepted(batch(team.api("member"), [{"name": "m1"}]))["made"] == 1
    # another team's cluster is refused on its network, as a single create's is
    body = accepted(batch(team.api(), [{"name": "x", "cluster": other_team.cluster.pk}]))
    assert (body["results"][0]["error"]["code"], body["results"][0]["error"]["field"]) == ("not_found", "cluster")
    assert not Network.objects.filter(tenant=team.tenant, name__in=["v", "r", "t", "x"]).exists()


def test_idempotency_key_makes_the_batch_once_and_replays_its_answer(team):
    api = team.api()
    items = [{"name": "a"}, {"name": "a"}]
    first = batch(api, items, headers={"Idempotency-Key": "batch-1"})
    again = batch(api, items, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content  # the same bytes
    assert Network.objects.filter(tenant=team.tenant).count() == 1
    assert_error(batch(api, [{"name": "b"}], headers={"Idempotency-Key": "batch-1"}), 422, "idempotency_key_reused")
    # a key of a single create is not a batch's
    assert team.api().post("networks/", {"name": "c"}, headers={"Idempotency-Key": "one"}).status_code == 202
    assert_error(batch(api, [{"name": "c"}], headers={"Idempotency-Key": "one"}), 422, "idempotency_key_reused")


def test_what_no_column_holds_is_echoed_escaped_and_the_answer_kept(team):
    """A name or a field name with a NUL or a lone surrogate is refused at its place; the answer echoes it
    escaped, so that it can be kept with its Idempotency-Key (PostgreSQL's jsonb holds neither: it was a 500)."""
    api = team.api()
    items = [{"name": "bad\x00name"}, {"name": "ok", "odd\x00key": 1}, {"name": "fine"}]
    first = accepted(batch(api, items, headers={"Idempotency-Key": "odd-1"}))
    assert (first["made"], first["refused"]) == (1, 2)
    assert first["results"][0]["name"] == "bad\\x00name"
    assert first["results"][0]["error"]["code"] == "nul_character"
    assert first["results"][1]["error"]["code"] == "unknown_field"
    assert "\x00" not in str(first) and "odd\\x00key" in first["results"][1]["error"]["message"]
    assert accepted(batch(api, items, headers={"Idempotency-Key": "odd-1"})) == first


def test_a_batch_is_sent_in_slices_that_share_a_task_id_and_a_message(
    team, monkeypatch, django_capture_on_commit_callbacks
):
    from networks.services import queue
    from networks.services.networks.create import RUN_TOGETHER

    sent = []
    monkeypatch.setattr(queue, "send", lambda name, *args, task_id, producer=None: sent.append((name, args, task_id)))
    with django_capture_on_commit_callbacks(execute=True):
        body = accepted(batch(team.api(), [{"name": f"s{i}"} for i in range(RUN_TOGETHER + 2)]))
    ids = [result["operation"]["id"] for result in body["results"]]
    operations = list(Operation.objects.filter(pk__in=ids).order_by("pk"))
    first, rest = operations[:RUN_TOGETHER], operations[RUN_TOGETHER:]
    assert len({op.celery_task_id for op in first}) == 1 and len({op.celery_task_id for op in rest}) == 1
    assert sent == [
        (queue.RUN_OPERATIONS, (ids[:RUN_TOGETHER],), first[0].celery_task_id),
        (queue.RUN_OPERATIONS, (ids[RUN_TOGETHER:],), rest[0].celery_task_id),
    ]
    assert all(op.sent is not None and op.waits_on == Operation.WaitsOn.WORKER for op in operations)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        one = accepted(batch(team.api(), [{"name": "alone"}]))["results"][0]["operation"]
    assert sent == [(queue.RUN_OPERATION, (one["id"],), Operation.objects.get(pk=one["id"]).celery_task_id)]
