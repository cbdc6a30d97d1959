"""A run whose image its node lacks pulls it from the cluster's registry (TLS from the cluster's CA),
layers and bytes showing on the operation; a private registry needs the team's login."""

from __future__ import annotations

import contextlib

import docker.errors
import pytest

from networks.engine import docker as docker_engine
from networks.engine import images as images_engine
from networks.models import Operation
from networks.services.containers.images import cluster_images_run
from networks.services.containers.lifecycle import container_action_request
from networks.services.containers.run import container_run
from networks.services.networks.create import network_create
from networks.services.networks.remove import network_remove
from networks.services.registries import registry_login_set
from portal.actors import Actor
from portal.models import Membership
from portal.services import membership_set
from tests.factories import make_user
from tests.support import first_team, wait_for_operation

pytestmark = [pytest.mark.cluster, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MYSQL = "192.168.250.1:5000/tutorial/mysql:5.6"


def forget_image(node, image: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_engine.client(node.docker).images.remove(image, force=True)
    assert not images_engine.has_image(node.docker, image)


def test_a_run_pulls_the_image_its_node_lacks_showing_layers_and_bytes(celery_worker_process, tenant_cluster):
    cluster, team = tenant_cluster, first_team(tenant_cluster)
    node2 = cluster.nodes.get(name="node2")
    forget_image(node2, MYSQL)
    net = wait_for_operation(
        network_create(actor=Actor.system("tests"), tenant=team, cluster=cluster, name="tutorial")
    ).network
    net.refresh_from_db()

    run = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=team,
            cluster=cluster,
            name="db",
            image=MYSQL,
            networks=[{"network": net}],
            node=node2,
        )
    )

    assert run.status == Operation.Status.SUCCEEDED, run.error
    assert run.transfer["image"] == MYSQL
    assert run.transfer["layers_done"] == run.transfer["layers_total"] >= 2  # busybox and the payload
    assert run.transfer["bytes_done"] == run.transfer["bytes_total"] > 16_000_000
    messages = [step["message"] for step in run.progress]
    assert f"node2 does not have {MYSQL}: pulling it." in messages
    assert any(m.startswith(f"Pulled {MYSQL} on node2: ") for m in messages)
    assert images_engine.has_image(node2.docker, MYSQL)
    # The stand-in answers on MySQL's port, by name, over the overlay network (as in the tutorial).
    client = wait_for_operation(
        container_run(actor=Actor.system("tests"),
            tenant=team, cluster=cluster, name="client", image="overlay-portal/tools:latest",
            command=["sleep", "600"], networks=[{"network": net}], node=cluster.nodes.get(name="node1"),
        )
    )  # fmt: skip
    node1 = client.container.node
    exit_code, output = docker_engine.exec_in_container(
        node1.docker, client.container.docker_id, ["sh", "-c", "nc db 3306 </dev/null"]
    )
    assert exit_code == 0 and "5.6.51" in output, output
    for container in (client.container, run.container):
        wait_for_operation(
            container_action_request(actor=Actor.system("tests"), tenant=team, container=container, action="remove")
        )
    wait_for_operation(network_remove(actor=Actor.system("tests"), tenant=team, network=net))


def test_the_run_form_offers_the_registrys_images(celery_worker_process, tenant_cluster):
    images = cluster_images_run(cluster=tenant_cluster)
    assert MYSQL in images["registry 192.168.250.1:5000"]
    assert "192.168.250.1:5000/tutorial/wordpress:4.4" in images["registry 192.168.250.1:5000"]


def test_a_private_registry_needs_the_teams_login(celery_worker_process, tenant_cluster, cluster_description):
    cluster, team = tenant_cluster, first_team(tenant_cluster)
    private = cluster_description["private_registry"]
    node1 = cluster.nodes.get(name="node1")
    forget_image(node1, private["image"])

    refused = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=team,
            cluster=cluster,
            name="nologin",
            image=private["image"],
            command=["true"],
            node=node1,
        )
    )
    assert refused.status == Operation.Status.FAILED
    assert refused.error_code == "registry_login", refused.error
    assert "asks for a login" in refused.error

    registry_login_set(
        actor=Actor.system("tests"),
        tenant=team,
        registry=private["address"],
        username=private["username"],
        password=private["password"],
    )
    pulled = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=team,
            cluster=cluster,
            name="withlogin",
            image=private["image"],
            command=["sleep", "60"],
            node=node1,
        )
    )
    assert pulled.status == Operation.Status.SUCCEEDED, pulled.error
    assert pulled.transfer["image"] == private["image"]  # its one layer is the tools image's: nothing to fetch
    assert private["password"] not in str(Operation.objects.filter(pk=pulled.pk).values().get())
    wait_for_operation(
        container_action_request(actor=Actor.system("tests"), tenant=team, container=pulled.container, action="remove")
    )


def test_a_run_of_an_image_no_node_has_and_no_registry_serves_fails_saying_so_on_its_page(
    celery_worker_process, tenant_cluster, client
):
    cluster, team = tenant_cluster, first_team(tenant_cluster)
    missing = "192.168.250.1:5000/tutorial/nothing-here:1"
    run = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=team,
            cluster=cluster,
            name="ghost",
            image=missing,
            node=cluster.nodes.get(name="node1"),
        )
    )
    sentence = (
        f"node1 does not have {missing} and 192.168.250.1:5000 could not give it: check the image's name and tag "
        "(the run form lists the images the cluster and its registry have)."
    )
    assert run.status == Operation.Status.FAILED and run.error == sentence, run.error
    run.container.refresh_from_db()
    assert run.container.status == "failed"
    viewer = make_user("ghost-viewer")
    membership_set(tenant=team, user=viewer, role=Membership.Role.VIEWER)
    client.force_login(viewer)
    page = client.get(f"/containers/{run.container.pk}/").content.decode()
    top = page.index('id="container-body"')
    assert page.index("<strong>It failed:</strong> " + sentence.replace("'", "&#x27;")) < top
