"""Networks over the API: the services' rules and sentences, 202 + Location, ?wait=, Idempotency-Key.

These run without a worker (the test transaction never commits, so nothing is enqueued); the
round trip through the real worker and cluster is in test_integration.py.
"""

import pytest

from networks.models import Endpoint, Network, Operation
from networks.services.clusters.registration import cluster_record
from tests.apiclient import assert_error
from tests.factories import found_swarm, made_bundle

pytestmark = pytest.mark.django_db


def test_create_answers_202_with_the_operation_and_its_location(team):
    response = team.api().post("networks/", {"name": "mynetwork"})
    assert response.status_code == 202, response.content
    operation = response.json()
    assert operation["kind"] == "network.create" and operation["status"] == "queued"
    assert response["Location"].endswith(f"/api/v1/operations/{operation['id']}/") == True  # noqa: E712
    assert operation["url"] == response["Location"]
    network = Network.objects.get(pk=operation["network"])
    assert (network.name, network.subnet, network.created_by) == ("mynetwork", "10.0.0.0/24", team.users["owner"])
    assert team.api("viewer").get(response["Location"]).json()["id"] == operation["id"]


def test_members_create_and_viewers_are_refused(team):
    assert team.api("member").post("networks/", {"name": "n1"}).status_code == 202
    assert team.api("viewer").post("networks/", {"name": "n2"}).status_code == 403


def test_the_name_taken_is_409_with_the_uis_sentence(team):
    team.network("mynetwork")
    assert_error(
        team.api().post("networks/", {"name": "mynetwork"}),
        409,
        "name_taken",
        field="name",
        message=f'A network named "mynetwork" already exists on cluster {team.cluster.name}. Pick another name.',
    )


def test_a_full_pool_is_409(team):
    team.cluster.address_pool = "10.9.0.0/23"
    team.cluster.save()
    team.network("a"), team.network("b")
    error = assert_error(team.api().post("networks/", {"name": "c"}), 409, "pool_exhausted")
    assert error["message"].startswith("No free /24 left in 10.9.0.0/23.")


def test_a_bad_subnet_is_400_on_the_subnet_field(team):
    error = assert_error(team.api().post("networks/", {"name": "n", "subnet": "10.176.230.0/24"}), 400, field="subnet")
    assert "ServiceNet" in error["message"]
    assert_error(team.api().post("networks/", {"name": "bridge"}), 400, "predefined_name", field="name")


def test_the_cluster_may_be_left_out_only_when_there_is_one(team, other_team):
    assert_error(team.api().post("networks/", {"name": "n", "cluster": other_team.cluster.pk}), 404, field="cluster")
    cluster_record(tenant=team.tenant, found=found_swarm(swarm_id="second-swarm"), bundle=made_bundle(), name="second")
    assert_error(team.api().post("networks/", {"name": "n"}), 400, "cluster_required", field="cluster")
    assert team.api().post("networks/", {"name": "n", "cluster": team.cluster.pk}).status_code == 202


def test_wait_is_bounded_and_answers_202_when_it_runs_out(team):
    assert_error(team.api().post("networks/?wait=500", {"name": "n"}), 400, "bad_wait", field="wait")
    assert_error(team.api().post("networks/?wait=soon", {"name": "n"}), 400, field="wait")
    assert not Network.objects.filter(name="n").exists()
    response = team.api().post("networks/?wait=0.3", {"name": "n"})
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_idempotency_key_creates_once_and_replays_the_answer(team):
    api = team.api()
    first = api.post("networks/", {"name": "mynetwork"}, headers={"Idempotency-Key": "create-mynetwork-1"})
    again = api.post("networks/", {"name": "mynetwork"}, headers={"Idempotency-Key": "create-mynetwork-1"})
    assert first.status_code == again.status_code == 202
    # the same bytes: the answer is stored as sent (jsonb would hand its keys back in its own order)
    assert again.content == first.content and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Network.objects.filter(name="mynetwork").count() == 1
    assert Operation.objects.filter(kind="network.create", target="mynetwork").count() == 1


def test_idempotency_key_with_another_body_is_refused(team):
    api = team.api()
    api.post("networks/", {"name": "one"}, headers={"Idempotency-Key": "k"})
    assert_error(
        api.post("networks/", {"name": "two"}, headers={"Idempotency-Key": "k"}),
        422,
        "idempotency_key_reused",
        message="This Idempotency-Key was already used for a different request. Use a new key for a new request.",
    )
    assert not Network.objects.filter(name="two").exists()


def test_idempotency_keys_are_per_user_and_a_refused_create_is_not_stored(team):
    team.network("taken")
    refused = team.api().post("networks/", {"name": "taken"}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 409
    assert team.api().post("networks/", {"name": "free"}, headers={"Idempotency-Key": "k"}).status_code == 202
    assert team.api("member").post("networks/", {"name": "free2"}, headers={"Idempotency-Key": "k"}).status_code == 202


def test_an_idempotency_key_is_remembered_for_a_day_then_forgotten(team, settings):
    from datetime import timedelta

    from django.utils import timezone

    from portal.models import IdempotencyRecord
    from portal.tasks import idempotency_expire_task

    api = team.api()
    assert api.post("networks/", {"name": "a"}, headers={"Idempotency-Key": "nightly"}).status_code == 202
    assert api.post("networks/", {"name": "b"}, headers={"Idempotency-Key": "kept"}).status_code == 202
    day_old = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL + 1)
    IdempotencyRecord.objects.filter(key="nightly").update(created=day_old)

    # An expired key is free again: the same key with tomorrow's body is a new request, not a 422.
    again = api.post("networks/", {"name": "c"}, headers={"Idempotency-Key": "nightly"})
    assert again.status_code == 202 and "Idempotent-Replayed" not in again
    assert Network.objects.filter(name="c").exists()

    IdempotencyRecord.objects.filter(key="kept").update(created=day_old)
    assert idempotency_expire_task.apply().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["nightly"]


def test_detail_lists_attached_containers(team):
    network = team.network("mynetwork")
    container = team.container("mysql", networks=[{"network": network}])
    body = team.api("viewer").get(f"networks/{network.pk}/").json()
    assert body["containers"] == [
        {"container": container.pk, "container_name": "mysql", "ipv4_address": None, "mac_address": "", "aliases": []}
    ]
    assert body["cluster_name"] == team.cluster.name and body["created_by"] is None


def test_delete_refuses_while_containers_are_attached_unless_told_to_disconnect(team):
    network = team.network("mynetwork")
    team.container("mysql", networks=[{"network": network}])
    assert_error(
        team.api().delete(f"networks/{network.pk}/"),
        409,
        "containers_attached",
        message="1 container is still attached: mysql — disconnect them first, or remove with disconnect.",
    )
    assert_error(team.api().delete(f"networks/{network.pk}/?disconnect=maybe"), 400, field="disconnect")
    response = team.api().delete(f"networks/{network.pk}/?disconnect=true")
    assert response.status_code == 202 and response.json()["kind"] == "network.remove"
    assert response.json()["params"] == {"disconnect": True}


def test_delete_by_a_viewer_or_of_another_tenants_network(team, other_team):
    network = team.network()
    assert_error(team.api("viewer").delete(f"networks/{network.pk}/"), 403)
    assert_error(other_team.api().delete(f"networks/{network.pk}/"), 404, message="No such network.")


def test_connect_and_disconnect(team, other_team):
    network = team.network("mynetwork")
    container = team.container("web")
    connect = team.api().post(f"networks/{network.pk}/connect/", {"container": container.pk, "aliases": ["www"]})
    assert connect.status_code == 202 and connect.json()["kind"] == "network.connect"
    assert Endpoint.objects.get(network=network, container=container).aliases == ["www"]
    assert_error(
        team.api().post(f"networks/{network.pk}/connect/", {"container": container.pk}), 409, "already_connected"
    )
    foreign = other_team.container()
    assert_error(team.api().post(f"networks/{network.pk}/connect/", {"container": foreign.pk}), 404, field="container")
    disconnect = team.api().post(f"networks/{network.pk}/disconnect/", {"container": container.pk})
    assert disconnect.status_code == 202 and disconnect.json()["kind"] == "network.disconnect"
    stranger = team.container()
    assert_error(
        team.api().post(f"networks/{network.pk}/disconnect/", {"container": stranger.pk}), 409, "not_connected"
    )


def test_inspect_waits_for_the_network_to_be_active(team):
    creating = team.network("slow", status="creating")
    assert_error(
        team.api().get(f"networks/{creating.pk}/inspect/"),
        409,
        "bad_state",
        message='Network "slow" is creating; inspect it once it is active.',
    )


@pytest.mark.parametrize("prefixlen", [0, 15, 30, 33, 64, 99, 2**70])
def test_a_size_outside_the_range_is_a_400_that_states_it(team, prefixlen):
    error = assert_error(team.api().post("networks/", {"name": "ok", "prefixlen": prefixlen}), 400, field="prefixlen")
    assert "from 16 to 29" in error["message"], error
    assert not Network.objects.filter(name="ok").exists()


def test_a_size_the_pool_cannot_give_names_the_pools_range(team):
    team.cluster.address_pool = "10.9.0.0/20"
    team.cluster.save()
    error = assert_error(team.api().post("networks/", {"name": "ok", "prefixlen": 18}), 400, "bad_prefix", "prefixlen")
    assert error["message"].startswith("A network in the pool 10.9.0.0/20 is from /20 to /29; /18 is outside"), error


def test_the_schema_states_the_real_bounds_of_prefixlen(team):
    schema = team.api().get("/api/v1/schema/?format=json").json()
    prefixlen = schema["components"]["schemas"]["NetworkCreateRequest"]["properties"]["prefixlen"]
    assert (prefixlen["minimum"], prefixlen["maximum"]) == (16, 29)


@pytest.mark.parametrize(
    ("labels", "code"),
    [
        ({"": "x"}, "bad_label_key"),
        ({" ": "x"}, "bad_label_key"),
        ({"k" * 100_000: "x"}, "bad_label_key"),
        ({"a b": "x"}, "bad_label_key"),
        ({"a=b": "x"}, "bad_label_key"),
        ({"team\x00": "x"}, "nul_character"),  # refused for every field, before the services look
        ({"team": "v" * 100_000}, "bad_label_value"),
        ({"team": "line\nbreak"}, "bad_label_value"),
        ({f"k{i}": "v" for i in range(65)}, "too_many_labels"),
    ],
)
def test_labels_docker_would_not_take_are_refused(team, labels, code):
    error = assert_error(team.api().post("networks/", {"name": "ok", "labels": labels}), 400, code, "labels")
    assert len(error["message"]) < 300, error


def test_a_fair_label_is_kept(team):
    response = team.api().post("networks/", {"name": "ok", "labels": {"com.example.team": "payments"}})
    assert response.status_code == 202, response.content
    assert Network.objects.get(name="ok").labels == {"com.example.team": "payments"}


@pytest.mark.parametrize("value", [str(2**64), "1.5", "²", "-1"])
def test_a_filter_by_an_id_no_object_can_have_is_a_400(team, value):
    assert_error(team.api().get("operations/", {"network": value}), 400, field="network")
    assert_error(team.api().get("containers/", {"network": value}), 400, field="network")
