"""The operations pages: the list, and progress that updates in place while the work runs."""

import re

import pytest

from networks.models import Operation
from tests.factories import make_network, make_operation

pytestmark = pytest.mark.django_db


def test_the_list_shows_the_teams_operations_newest_first_with_filters(client, team, other_team):
    make_operation(team, target="first", status=Operation.Status.SUCCEEDED)
    make_operation(team, Operation.Kind.CONTAINER_RUN, target="second", status=Operation.Status.FAILED, error="No.")
    make_operation(other_team, target="theirs")
    client.force_login(team.viewer)
    page = client.get("/operations/").content.decode()
    assert page.index(">second<") < page.index(">first<") and "theirs" not in page
    page = client.get("/operations/?status=failed").content.decode()
    assert "second" in page and ">first<" not in page
    page = client.get("/operations/?kind=container.run").content.decode()
    assert "second" in page and ">first<" not in page


def test_a_network_s_operations_are_one_click_away(client, team):
    web = make_network(team, "web")
    make_operation(team, target="web", network=web)
    make_operation(team, target="other")
    client.force_login(team.viewer)
    page = client.get(f"/operations/?network={web.pk}").content.decode()
    assert ">web<" in page and ">other<" not in page


def test_running_rows_poll_themselves_and_finished_rows_do_not(client, team):
    running = make_operation(team, target="busy", status=Operation.Status.RUNNING)
    done = make_operation(team, target="done", status=Operation.Status.SUCCEEDED)
    client.force_login(team.viewer)
    page = client.get("/operations/").content.decode()
    assert f'hx-get="/operations/{running.pk}/row/" hx-trigger="every 1s"' in page
    assert f'hx-get="/operations/{done.pk}/row/"' not in page
    Operation.objects.filter(pk=running.pk).update(status=Operation.Status.SUCCEEDED)
    row = client.get(f"/operations/{running.pk}/row/").content.decode()
    assert row.startswith("<tr") and "every 1s" not in row and "Succeeded" in row


def test_the_list_looks_for_new_operations_by_itself(client, team):
    import re

    make_operation(team, target="first", status=Operation.Status.SUCCEEDED)
    client.force_login(team.viewer)
    page = client.get("/operations/?status=succeeded").content.decode()
    watch = re.search(r'hx-get="([^"]+)" hx-headers=\'\{"X-Seen-Version": "(\w+)"\}\' hx-trigger="every 10s"', page)
    assert watch and watch.group(1) == "/operations/?status=succeeded"
    watching = {"HX-Request": "true", "HX-Target": "results", "X-Seen-Version": watch.group(2)}
    assert client.get(watch.group(1), headers=watching).status_code == 204
    make_operation(team, target="reconcile", status=Operation.Status.SUCCEEDED)  # beat, or another user
    response = client.get(watch.group(1), headers=watching)
    assert response.status_code == 200 and b">reconcile<" in response.content


def test_progress_updates_in_place_until_the_operation_is_finished(client, team):
    operation = make_operation(team, target="web", status=Operation.Status.RUNNING)
    client.force_login(team.viewer)
    page = client.get(f"/operations/{operation.pk}/").content.decode()
    assert f'hx-get="/operations/{operation.pk}/progress/" hx-trigger="load, live-again' in page  # a long poll

    operation.progress.append({"at": "2026-01-01T10:00:02+00:00", "message": "Creating overlay network web."})
    Operation.objects.filter(pk=operation.pk).update(progress=operation.progress)
    fragment = client.get(f"/operations/{operation.pk}/progress/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "Creating overlay network web." in fragment and "live-again" in fragment

    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.SUCCEEDED, result={"id": "abc123"})
    fragment = client.get(f"/operations/{operation.pk}/progress/").content.decode()
    assert "live-again" not in fragment and "Succeeded" in fragment and "abc123" in fragment


def test_a_failed_operation_shows_its_error_sentence(client, team):
    operation = make_operation(
        team,
        target="web",
        status=Operation.Status.FAILED,
        error="The cluster's state store (Consul) is down: rebuild the cluster, then try again.",
        params={"subnet": "10.0.3.0/24", "internal": False, "networks": ["a", "b"]},
    )
    client.force_login(team.viewer)
    page = client.get(f"/operations/{operation.pk}/").content.decode()
    assert "It failed:</strong> The cluster&#x27;s state store (Consul) is down" in page
    assert "10.0.3.0/24" in page and "a, b" in page and ">no<" in page


def test_another_teams_operation_is_a_404(client, team, other_team):
    theirs = make_operation(other_team)
    client.force_login(team.owner)
    for suffix in ("", "progress/", "row/"):
        assert client.get(f"/operations/{theirs.pk}/{suffix}").status_code == 404


def test_a_queued_operation_says_what_it_waits_for(client, team):
    from django.utils import timezone

    earlier = [make_operation(team, target=f"ahead-{i}", sent=timezone.now()) for i in range(2)]
    make_operation(team, target="done", status=Operation.Status.SUCCEEDED, sent=timezone.now())
    queued = make_operation(team, target="mine", sent=timezone.now())
    unsent = make_operation(team, target="unsent")
    client.force_login(team.viewer)

    page = client.get(f"/operations/{queued.pk}/progress/").content.decode()
    assert "busy with 2 operations ahead of this one" in page  # the finished one and the later one do not count
    assert "Being handed to the task queue." in client.get(f"/operations/{unsent.pk}/progress/").content.decode()
    Operation.objects.filter(pk=unsent.pk).update(
        progress=[*unsent.progress, {"at": "2026-01-01T10:00:02+00:00", "message": "Waiting for the task queue: no."}]
    )
    assert "it does not answer" not in client.get(f"/operations/{unsent.pk}/progress/").content.decode()
    Operation.objects.filter(pk=unsent.pk).update(waits_on=Operation.WaitsOn.TASK_QUEUE)
    assert (
        "Waiting for the task queue: it does not answer. The operation is sent as soon as it does."
        in client.get(f"/operations/{unsent.pk}/progress/").content.decode()
    )

    Operation.objects.filter(pk__in=[op.pk for op in earlier]).update(status=Operation.Status.SUCCEEDED)
    page = client.get(f"/operations/{queued.pk}/").content.decode()
    assert "Waiting for a worker to pick it up." in page

    Operation.objects.filter(pk=queued.pk).update(
        progress=[*queued.progress, {"at": "2026-01-01T10:00:02+00:00", "message": "Waiting for the cluster: no."}]
    )
    assert (
        "Waiting for the cluster to answer" not in client.get(f"/operations/{queued.pk}/progress/").content.decode()
    ), "what it waits for is a field, not read from a message's wording"
    since = timezone.now() - timezone.timedelta(seconds=42)
    Operation.objects.filter(pk=queued.pk).update(
        status=Operation.Status.RUNNING, waits_on=Operation.WaitsOn.CLUSTER, waiting_since=since
    )
    expected = (
        f"Waiting for the cluster to answer: no answer for 4[23] s \\(since {since:%H:%M:%S} UTC\\). The operation "
        "goes on as soon as it answers; the worker keeps trying with growing pauses."
    )
    assert re.search(expected, client.get(f"/operations/{queued.pk}/progress/").content.decode())
    Operation.objects.filter(pk=queued.pk).update(waits_on=Operation.WaitsOn.DATABASE)
    assert (
        "Waiting for the portal&#x27;s database to answer: no answer for"
        in client.get(f"/operations/{queued.pk}/progress/").content.decode()
    )
    Operation.objects.filter(pk=queued.pk).update(status=Operation.Status.SUCCEEDED)
    assert 'class="waiting-for' not in client.get(f"/operations/{queued.pk}/progress/").content.decode()
