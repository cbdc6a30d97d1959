"""A container's logs over the API and on its page: refusals without a worker, then the real lines
of a real container read by the real worker (tail, since, follow, masked secrets)."""

import secrets
import time

import pytest
from django.test import Client

from networks.api.views import containers as container_views
from networks.models import Container
from networks.services import queue
from networks.services.grants import cluster_grant
from networks.services.shares import network_share
from portal.actors import Actor
from tests.apiclient import assert_error
from tests.support import first_team

TOOLS = "overlay-portal/tools:latest"
COUNTER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("tail=0", "tail", "tail is a number of lines from 1 to 10000."),
        ("tail=10001", "tail", "tail is a number of lines from 1 to 10000."),
        ("since=soon", "since", None),
        ("follow=perhaps", "follow", "follow is true or false (1 or 0)."),
        ("timestamps=2", "timestamps", "timestamps is true or false (1 or 0)."),
    ],
)
def test_a_bad_query_is_a_400_with_a_sentence_on_its_parameter(team, query, field, message):
    container = team.container("web")
    assert_error(team.api("viewer").get(f"containers/{container.pk}/logs/?{query}"), 400, None, field, message)


@pytest.mark.django_db
def test_another_team_s_container_is_a_404_even_on_a_network_shared_with_it(team, other_team):
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=other_team.tenant)
    network = team.network("backend")
    network_share(actor=Actor.system("tests"), tenant=team.tenant, network=network, with_tenant=other_team.tenant.slug)
    container = team.container("db", networks=[{"network": network}])
    assert_error(other_team.api().get(f"containers/{container.pk}/logs/"), 404)
    page = Client()
    page.force_login(other_team.users["owner"])
    assert page.get(f"/containers/{container.pk}/logs/").status_code == 404


@pytest.mark.django_db
def test_a_system_container_s_log_is_never_read_by_a_team(team):
    consul = Container.objects.create(
        cluster=team.cluster, node=team.node(), name="op-consul-x", image="consul", is_system=True, docker_id="d" * 64
    )
    cluster_grant(actor=Actor.system("tests"), cluster=team.cluster, tenant=team.tenant)
    assert_error(team.api().get(f"containers/{consul.pk}/logs/"), 403, "system_container")


@pytest.mark.django_db
def test_a_removed_or_never_started_container_has_no_log_and_no_worker_is_asked(team):
    removed = team.container("gone", status=Container.Status.REMOVED)
    assert_error(
        team.api().get(f"containers/{removed.pk}/logs/"),
        409,
        "no_logs",
        None,
        "gone was removed from its node, and its log with it.",
    )
    failed = team.container("never", status=Container.Status.FAILED)
    Container.objects.filter(pk=failed.pk).update(docker_id="")
    assert_error(
        team.api().get(f"containers/{failed.pk}/logs/"),
        409,
        "no_logs",
        None,
        "never has not started on a node, so it has no log yet.",
    )


@pytest.mark.django_db
def test_no_worker_answering_is_a_503_with_retry_after(team, monkeypatch):
    monkeypatch.setattr(container_views, "WORKER_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(queue, "workers_running", lambda: True)  # one runs, and does not answer
    container = team.container("web")
    answer = team.api("viewer").get(f"containers/{container.pk}/logs/?tail=5")
    error = assert_error(answer, 503, "worker_unavailable")
    assert answer["Retry-After"] == "5"
    assert (
        error["message"]
        == "The portal's worker did not answer in time. The cluster may be busy: try again in a moment."
    )


@pytest.mark.django_db
def test_no_worker_running_is_a_503_at_once_that_says_to_start_it(team, broker_redis):
    """No worker has recorded what it holds in the task queue's Redis (emptied): the question is not sent to
    wait out its timeout (20 s on the page); within NO_WORKER_SECONDS, the answer says what is wrong and who
    can mend it."""
    container = team.container("web")
    started = time.monotonic()
    answer = team.api("viewer").get(f"containers/{container.pk}/logs/?tail=5")
    waited = time.monotonic() - started
    error = assert_error(answer, 503, "worker_unavailable")
    assert error["message"] == (
        "The portal's worker is not running, so nothing can ask the cluster. An admin should start it "
        "(make run starts one; in production, its service: overlay-portal-worker)."
    )
    assert broker_redis.llen("celery") == 0, "nothing was sent for no one to take"
    assert waited < container_views.WORKER_TIMEOUT_SECONDS


# --- the real worker and the real cluster ---------------------------------------------------------


def _run(api, name, command, environment=()):
    ran = api.post(
        "containers/?wait=90",
        {"name": name, "image": TOOLS, "command": ["sh", "-c", command], "environment": list(environment)},
    )
    assert ran.status_code == 200 and ran.json()["status"] == "succeeded", ran.content
    return ran.json()["container"]


def _lines(answer):
    assert answer.status_code == 200, answer.content
    return [row["line"] for row in answer.json()["lines"]]


@pytest.fixture
def viewer_api(tenant_cluster):
    from django.contrib.auth import get_user_model

    from portal.services import api_token_create, membership_set
    from tests.apiclient import Api

    def api(role):
        user = get_user_model().objects.create_user(username=f"{role}-{secrets.token_hex(3)}")
        membership_set(tenant=first_team(tenant_cluster), user=user, role=role)
        return Api(api_token_create(actor=Actor.system("tests"), user=user, name="ci")[1]), user

    return api


@pytest.mark.cluster
@pytest.mark.worker
def test_a_viewer_reads_tails_and_follows_a_real_container_s_lines(celery_worker_process, tenant_cluster, viewer_api):
    member, _ = viewer_api("member")
    viewer, viewer_user = viewer_api("viewer")
    pk = _run(member, f"counter-{secrets.token_hex(3)}", COUNTER)
    deadline = time.monotonic() + 30
    while len(_lines(viewer.get(f"containers/{pk}/logs/"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.5)
    # tail: the last N lines, oldest first, numbered in order
    answer = viewer.get(f"containers/{pk}/logs/?tail=3")
    lines = _lines(answer)
    assert len(lines) == 3 and all(line.startswith("line ") for line in lines)
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    body = answer.json()
    assert [row["stream"] for row in body["lines"]] == ["stdout"] * 3
    assert body["next_since"] == body["lines"][-1]["time"]
    # since: only what came after the last line seen; follow waits for the next one and repeats nothing
    followed = viewer.get(f"containers/{pk}/logs/", {"since": body["next_since"], "follow": "1"})
    assert [int(line.split()[1]) for line in _lines(followed)][0] == numbers[-1] + 1
    # since as seconds ago: at most a few lines; timestamps off: no times, the cursor still given
    recent = viewer.get(f"containers/{pk}/logs/", {"since": "2", "timestamps": "false"}).json()
    assert len(recent["lines"]) <= 4 and all(row["time"] is None for row in recent["lines"])
    # the page: the Logs part, and the download as a text file
    page = Client()
    page.force_login(viewer_user)
    part = page.get(f"/containers/{pk}/logs/?tail=2", headers={"HX-Request": "true"}).content.decode()
    assert 'role="region"' in part and "line " in part and "aria-live" not in part
    download = page.get(f"/containers/{pk}/logs/?tail=2&timestamps=0&download=1")
    assert download["Content-Disposition"].startswith("attachment;")
    text = download.content.decode().splitlines()
    assert len(text) == 2 and all(line.startswith("line ") for line in text)


@pytest.mark.cluster
@pytest.mark.worker
def test_secret_values_are_masked_in_the_lines(celery_worker_process, tenant_cluster, viewer_api):
    member, _ = viewer_api("member")
    environment = [
        {"name": "DB_PASSWORD", "value": "s3cret-pw-42", "secret": True},
        {"name": "SHORT", "value": "1", "secret": True},
        {"name": "PLAIN", "value": "visible-value"},
    ]
    command = 'echo "password=$DB_PASSWORD short=$SHORT plain=$PLAIN"; echo "err $DB_PASSWORD" >&2; sleep 600'
    pk = _run(member, f"leaky-{secrets.token_hex(3)}", command, environment)
    deadline = time.monotonic() + 30
    while len(lines := _lines(member.get(f"containers/{pk}/logs/"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "password=•••••• short=1 plain=visible-value" in lines
    assert "err ••••••" in lines
    assert "s3cret-pw-42" not in member.get(f"containers/{pk}/logs/").content.decode()
