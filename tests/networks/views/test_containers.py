"""The container pages: list with exposure badges, run form, detail with port query, lifecycle buttons."""

import html
import re

import pytest

from networks.models import Container, Operation
from tests.factories import make_container, make_network, make_operation, make_system_container
from tests.pages import error_summary_of, run_form, tag_with_id

pytestmark = pytest.mark.django_db

MASK = "••••••"  # what a secret value shows as

PUBLISHED = {
    "ports": [{"host": 8080, "container": 80, "protocol": "tcp"}],
    "published_ports": [{"port": "80/tcp", "host_ip": "0.0.0.0", "host_port": "8080"}],
}


def test_the_list_badges_exposed_private_and_system_containers(client, team, other_team):
    make_container(team, "db")
    make_container(team, "web", **PUBLISHED)
    make_system_container(team)
    make_container(other_team, "theirs")
    client.force_login(team.viewer)
    page = client.get("/containers/").content.decode()
    node = team.node().address
    assert f'⚠ Exposed: <span class="port">{node}:8080 -&gt; 80/tcp</span>' in page
    assert ">Private</span>" in page and ">System</span>" in page
    assert "theirs" not in page

    page = client.get("/containers/?exposed=true").content.decode()
    assert ">web</strong>" in page and ">db</strong>" not in page


def test_the_list_refreshes_itself_while_a_container_is_changing(client, team):
    web = make_container(team, "web")
    client.force_login(team.viewer)
    assert b"every 2s" not in client.get("/containers/").content
    operation = make_operation(team, Operation.Kind.CONTAINER_STOP, target="web", container=web)
    assert b"every 2s" in client.get("/containers/").content
    Container.objects.filter(pk=web.pk).update(status=Container.Status.EXITED)
    Operation.objects.filter(pk=operation.pk).update(status=Operation.Status.SUCCEEDED)
    response = client.get("/containers/", headers={"HX-Request": "true", "HX-Target": "results"})
    assert b"st-exited" in response.content and b"every 2s" not in response.content


def test_a_settled_page_keeps_watching_and_only_answers_when_something_changed(client, team, monkeypatch):
    monkeypatch.setattr("plumbing.live.LONG_POLL_SECONDS", 0.3)
    web = make_container(team, "web")
    client.force_login(team.viewer)
    page = client.get(f"/containers/{web.pk}/").content.decode()
    seen = re.search(r'hx-trigger="load, live-again[^"]*" hx-headers=\'\{"X-Seen-Version": "(\w+)"\}\'', page)
    assert seen, "a settled container's status line still watches (a long poll)"
    status_url = f"/containers/{web.pk}/status/"
    watching = {"HX-Request": "true", "X-Seen-Version": seen.group(1)}
    assert client.get(status_url, headers=watching).status_code == 204  # nothing new: nothing swapped

    # `docker stop web` on the node, recorded by the events follower
    web.status = Container.Status.EXITED
    web.save(update_fields=["status", "updated"])
    response = client.get(status_url, headers=watching)
    assert response.status_code == 200 and b'data-status="exited"' in response.content
    assert response["HX-Trigger"] == "container-settled", "the body and the buttons reload too"

    web.status = Container.Status.REMOVED
    web.save(update_fields=["status", "updated"])
    assert b"hx-get" not in client.get(status_url, headers=watching).content, "a removed container is not watched"


def test_the_run_form_starts_private_and_warns_before_publishing(client, team):
    net = make_network(team, "mynetwork")
    client.force_login(team.member)
    page = client.get("/containers/run/").content.decode()
    assert re.search(r'<input type="text" name="ports"[^>]*>', page)
    assert not re.search(r'<input type="text" name="ports"[^>]* value=', page)  # empty
    assert "Publishing a port exposes this container to the Internet and to ServiceNet" in page
    # A network is picked from a list (a box to type in, with JavaScript); a row's boxes come when it is.
    assert f'<option value="{net.pk}">mynetwork</option>' in page and f'name="aliases_{net.pk}"' not in page
    assert 'name="env-0-secret"' in page and 'id="env-empty-row"' in page
    assert "Spread: the node running the fewest containers" in page


def test_run_records_the_container_with_its_networks_aliases_and_secrets(client, team):
    net = make_network(team, "mynetwork")
    address = str(net.subnet_network.network_address + 10)
    client.force_login(team.member)
    response = client.post(
        "/containers/run/",
        run_form(
            team.cluster,
            env=[("MYSQL_ROOT_PASSWORD", "my-root-pw", True), ("TZ", "UTC", False)],
            name="mysql",
            command="sh -c 'while true; do echo ok | nc -l -p 3306; done'",
            networks=[net.pk],
            node=f"{team.cluster.pk}:node2",
            **{f"aliases_{net.pk}": "db, database", f"ipv4_address_{net.pk}": address},
        ),
    )
    container = Container.objects.get(name="mysql")
    assert response.status_code == 302 and response["Location"] == f"/containers/{container.pk}/"
    assert container.command == ["sh", "-c", "while true; do echo ok | nc -l -p 3306; done"]
    assert container.node.name == "node2" and not container.is_exposed
    endpoint = container.endpoints.get()
    assert endpoint.aliases == ["db", "database"] and endpoint.ipv4_address == address
    assert Operation.objects.get(container=container).params["environment"] == ["MYSQL_ROOT_PASSWORD", "TZ"]

    page = client.get(f"/containers/{container.pk}/").content.decode()
    assert "my-root-pw" not in page and MASK in page and "UTC" in page


def test_a_refused_run_keeps_what_was_typed_and_keeps_secrets_masked(client, team):
    net = make_network(team, "mynetwork")
    client.force_login(team.member)
    response = client.post(
        "/containers/run/",
        run_form(
            team.cluster,
            env=[("API_KEY", "hunter2", True)],
            name="web",
            networks=[net.pk],
            ports="80:80, 99999:80",
            **{f"aliases_{net.pk}": "site"},
        ),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "ports are numbers from 1 to 65535" in page
    assert 'value="web"' in page and 'value="80:80 99999:80"' in page or 'value="80:80, 99999:80"' in page
    assert 'value="site"' in page and f'<input type="hidden" name="networks" value="{net.pk}">' in page
    # the secret stays in the form, in a password field
    assert re.search(r'<input type="password" data-env-value name="env-0-value"[^>]*value="hunter2"', page)
    assert not Container.objects.exists()


@pytest.mark.parametrize(
    "fields, sentence",
    [
        ({"image": "i" * 10_000}, "This field takes at most 255 characters (it has 10000)."),
        (
            {"cluster": "1\x00"},
            "This field contains a NUL character (\\x00), which the portal cannot store. Remove it.",
        ),
        ({"env-0-value": "a\x00"}, "This field contains a NUL character (\\x00), which the portal cannot store."),
    ],
)
def test_text_no_column_can_hold_is_refused_on_its_field(client, team, fields, sentence):
    client.force_login(team.member)
    response = client.post(
        "/containers/run/", {**run_form(team.cluster, env=[("A", "b", False)], name="web"), **fields}
    )
    assert response.status_code == 400 and sentence in response.content.decode()
    assert not Container.objects.exists()


def test_a_bad_environment_name_is_shown_by_the_variables(client, team):
    client.force_login(team.member)
    response = client.post(
        "/containers/run/", run_form(team.cluster, env=[("1BAD", "x", False), ("", "orphan value", False)], name="web")
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Name this variable, or clear its value." in page
    response = client.post("/containers/run/", run_form(team.cluster, env=[("1BAD", "x", False)], name="web"))
    assert "is not a valid environment variable name" in response.content.decode()


def test_a_tenant_policy_can_forbid_publishing(client, team):
    team.tenant.allow_published_ports = False
    team.tenant.save()
    client.force_login(team.member)
    page = client.get("/containers/run/").content.decode()
    assert "Your team's policy forbids published ports." in page
    assert re.search(r'<input type="text" name="ports"[^>]*disabled', page)


def test_viewers_cannot_run_or_act(client, team):
    db = make_container(team, "db")
    client.force_login(team.viewer)
    page = client.get("/containers/").content.decode()
    assert "Run container" not in page and "Remove all exited" not in page
    page = client.get(f"/containers/{db.pk}/").content.decode()
    assert ">Stop</button>" not in page and ">Remove</button>" not in page and "Run checks" not in page
    assert client.get("/containers/run/").status_code == 403
    assert client.post("/containers/run/", {"name": "x"}).status_code == 403
    for action in ("stop", "restart", "remove"):
        assert client.post(f"/containers/{db.pk}/{action}/").status_code == 403
    assert client.post("/containers/remove-exited/").status_code == 403
    assert client.post(f"/containers/{db.pk}/diagnose/", {"target": "web"}).status_code == 403
    assert not Operation.objects.exists()


def test_lifecycle_buttons_follow_the_status(client, team):
    running = make_container(team, "running")
    exited = make_container(team, "exited", status=Container.Status.EXITED)
    client.force_login(team.member)
    page = client.get(f"/containers/{running.pk}/").content.decode()
    assert ">Stop</button>" in page and ">Restart</button>" in page and ">Start</button>" not in page
    page = client.get(f"/containers/{exited.pk}/").content.decode()
    assert ">Start</button>" in page and ">Stop</button>" not in page

    response = client.post(f"/containers/{running.pk}/stop/", follow=True)
    assert b"Stop requested for running." in response.content
    assert Operation.objects.get(container=running).kind == Operation.Kind.CONTAINER_STOP
    assert client.post(f"/containers/{running.pk}/explode/").status_code == 404


def test_system_containers_are_shown_but_never_offered_an_action(client, team):
    consul = make_system_container(team)
    client.force_login(team.owner)
    page = client.get(f"/containers/{consul.pk}/").content.decode()
    assert "protected system container" in page and ">Stop</button>" not in page
    response = client.post(f"/containers/{consul.pk}/remove/", follow=True)
    assert "protected system container" in response.content.decode()
    assert Container.objects.get(pk=consul.pk).status == Container.Status.RUNNING


def test_remove_all_exited_leaves_running_and_system_containers(client, team):
    make_container(team, "running")
    make_container(team, "done-1", status=Container.Status.EXITED)
    make_container(team, "done-2", status=Container.Status.EXITED)
    make_system_container(team, running=False)
    client.force_login(team.member)
    assert "Remove all exited (2)" in client.get("/containers/").content.decode()
    response = client.post("/containers/remove-exited/", follow=True)
    assert "Removing 2 exited container(s): done-1, done-2." in response.content.decode()
    assert set(Container.objects.filter(status=Container.Status.REMOVING).values_list("name", flat=True)) == {
        "done-1",
        "done-2",
    }


def test_the_port_query_answers_like_docker_port(client, team):
    db = make_container(team, "mysql")
    web = make_container(team, "wordpress", **PUBLISHED)
    client.force_login(team.viewer)
    node = team.node().address

    page = client.get(f"/containers/{db.pk}/?port=3306").content.decode()
    assert "$ docker port mysql 3306" in page
    assert "Error: No public port &#x27;3306/tcp&#x27; published for mysql" in page

    response = client.get(f"/containers/{web.pk}/?port=80", headers={"HX-Request": "true", "HX-Target": "port-answer"})
    page = response.content.decode()
    assert "<html" not in page and "$ docker port wordpress 80" in page and f"{node}:8080" in page

    page = client.get(f"/containers/{web.pk}/").content.decode()
    assert f"80/tcp -&gt; {node}:8080" in page and "Exposed to the Internet and ServiceNet" in page


def test_diagnostics_need_a_running_container(client, team):
    exited = make_container(team, "exited", status=Container.Status.EXITED)
    client.force_login(team.member)
    page = client.get(f"/containers/{exited.pk}/").content.decode()
    assert "start it first" in page and "Run checks" not in page
    response = client.post(f"/containers/{exited.pk}/diagnose/", {"target": "db"}, headers={"HX-Request": "true"})
    assert response.status_code == 409 and b"start it first" in response.content


def test_a_refused_diagnosis_keeps_what_was_typed(client, team):
    db = make_container(team, "db")
    client.force_login(team.member)
    response = client.post(f"/containers/{db.pk}/diagnose/", {"target": "no such name!", "port": "70000"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="no such name!"' in page and 'value="70000"' in page


def test_another_teams_container_is_a_404(client, team, other_team):
    theirs = make_container(other_team, "theirs")
    client.force_login(team.owner)
    for url in (f"/containers/{theirs.pk}/", f"/containers/{theirs.pk}/status/"):
        assert client.get(url).status_code == 404
    for url in (f"/containers/{theirs.pk}/stop/", f"/containers/{theirs.pk}/diagnose/"):
        assert client.post(url, {"target": "x"}).status_code == 404
    assert not Operation.objects.exists()


def test_the_status_polls_while_the_container_is_being_made(client, team):
    container = make_container(team, "fresh", status=Container.Status.CREATING)
    client.force_login(team.viewer)
    assert (
        f'hx-get="/containers/{container.pk}/status/" hx-trigger="load, live-again'
        in client.get(f"/containers/{container.pk}/").content.decode()
    )
    Container.objects.filter(pk=container.pk).update(status=Container.Status.RUNNING)
    response = client.get(f"/containers/{container.pk}/status/")
    assert b"spinner" not in response.content and response["HX-Trigger"] == "container-settled"


def test_a_refused_environment_variable_is_marked_on_its_row_and_linked_from_the_summary(client, team):
    client.force_login(team.member)
    env = [("GOOD", "1", False), ("1BAD", "x", False)]
    response = client.post("/containers/run/", run_form(team.cluster, env=env, name="web"))
    page = response.content.decode()
    sentence = '"1BAD" is not a valid environment variable name (letters, digits, underscores).'
    assert response.status_code == 400
    assert error_summary_of(page) == [("#id_env-1-name", f"Variable name (row 2): {sentence}")]
    field = tag_with_id(page, "id_env-1-name")
    assert field["aria-invalid"] == "true" and field["aria-describedby"] == "id_env-1-name_error"
    assert f'id="id_env-1-name_error">{sentence}</span>' in html.unescape(page)
    assert "aria-invalid" not in tag_with_id(page, "id_env-0-name")

    env = [("A", "1", False), ("B", "2", False), ("A", "3", False)]
    page = client.post("/containers/run/", run_form(team.cluster, env=env, name="web")).content.decode()
    assert error_summary_of(page) == [("#id_env-2-name", "Variable name (row 3): A is set twice.")]
    assert tag_with_id(page, "id_env-2-name")["aria-invalid"] == "true"


def test_a_refused_run_sums_up_every_field_and_row_with_links(client, team):
    client.force_login(team.member)
    form = run_form(team.cluster, env=[("", "orphan", False)], name="", command="sh -c 'open")
    page = client.post("/containers/run/", form).content.decode()
    assert error_summary_of(page) == [
        ("#id_name", "Name: This field is required."),
        ("#id_command", "Command: The command has unbalanced quotes (No closing quotation)."),
        ("#id_env-0-name", "Variable name (row 1): Name this variable, or clear its value."),
    ]
    assert "data-error-summary" in page and 'role="alert" tabindex="-1"' in page
    assert "{#" not in page and "comment %}" not in page  # the summary's template leaks none of its notes
    for control in ("id_name", "id_command", "id_env-0-name"):
        attrs = tag_with_id(page, control)
        assert attrs["aria-invalid"] == "true" and f"{control}_error" in attrs["aria-describedby"].split()
        tag_with_id(page, f"{control}_error")  # the message the field is tied to is there
    assert "data-error-summary" not in client.get("/containers/run/").content.decode()


def test_an_image_reference_docker_cannot_read_is_refused_at_once_on_its_field(client, team):
    # It was accepted and failed 20 s later on the worker.
    client.force_login(team.member)
    response = client.post("/containers/run/", run_form(team.cluster, name="web", image="no such image!!"))
    assert response.status_code == 400
    assert (
        "“no such image!!” is not a valid image reference: it contains a space. Write "
        "[HOST[:PORT]/]NAME[:TAG][@DIGEST], such as busybox, busybox:1.36 or registry.example.com:5000/team/app:1.2."
    ) in response.content.decode()
    assert not Container.objects.exists()


def test_each_alias_of_a_run_is_checked_whole_with_its_own_sentence(client, team):
    net = make_network(team, "mynetwork")
    client.force_login(team.member)
    response = client.post(
        "/containers/run/", run_form(team.cluster, name="web", networks=[net.pk], **{f"aliases_{net.pk}": "bad alias!"})
    )
    assert response.status_code == 400
    assert "Alias “bad alias!” is not a valid DNS name: use letters, digits, hyphens and underscores" in (
        response.content.decode()
    )
    assert not Container.objects.exists()


def test_a_failed_run_shows_why_at_the_top_of_the_container_page(client, team):
    web = make_container(team, "web", status=Container.Status.FAILED, image="registry.invalid/nothing:1")
    make_operation(
        team,
        Operation.Kind.CONTAINER_RUN,
        target="web",
        container=web,
        status=Operation.Status.FAILED,
        error="No node has registry.invalid/nothing:1 and no registry serves it. Check the image's name.",
    )
    client.force_login(team.viewer)
    page = client.get(f"/containers/{web.pk}/").content.decode()
    alert = page.index('<div class="notice bad" role="alert"><p><strong>It failed:</strong> No node has')
    assert alert < page.index('id="container-body"')  # above the facts, next to the status badge
    status = client.get(f"/containers/{web.pk}/status/").content.decode()
    assert "It failed:</strong> No node has registry.invalid/nothing:1 and no registry serves it." in status


def test_a_running_container_shows_no_old_failure(client, team):
    web = make_container(team, "web")
    make_operation(
        team, Operation.Kind.CONTAINER_STOP, target="web", container=web, status=Operation.Status.FAILED, error="Busy."
    )
    client.force_login(team.viewer)
    assert "It failed:" not in client.get(f"/containers/{web.pk}/").content.decode()


def test_the_page_says_since_when_a_container_is_up_or_how_it_exited(client, team):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    up = make_container(team, "up")
    Container.objects.filter(pk=up.pk).update(started_at=now - timedelta(minutes=5, seconds=3))
    down = make_container(team, "down")
    Container.objects.filter(pk=down.pk).update(
        status=Container.Status.EXITED,
        started_at=now - timedelta(hours=3),
        finished_at=now - timedelta(hours=2),
        exit_code=137,
    )
    client.force_login(team.viewer)
    assert "<dt>Up</dt><dd>for 5\xa0minutes" in client.get(f"/containers/{up.pk}/").content.decode()
    assert (
        "<dt>Exited</dt><dd>with code 137, 2\xa0hours ago</dd>"
        in client.get(f"/containers/{down.pk}/").content.decode()
    )
