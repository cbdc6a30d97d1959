"""`docker network create`'s other options through the real worker, the real local cluster and its
Consul: what the swarm built is checked, containers get the range's addresses and the MTU less the
overlay's 50 bytes, and the nodes' underlay MTU is read for the warning."""

import ipaddress
import re

import pytest

from networks.engine import docker as docker_engine
from networks.models import Network, Operation, SubnetAllocation
from networks.selectors.allocations import cluster_capacity
from networks.services.clusters.health import cluster_refresh_health
from networks.services.containers.run import container_run
from networks.services.networks.create import network_create
from networks.services.networks.inspect import network_inspect
from plumbing.errors import ServiceError
from portal.actors import Actor
from tests.support import consul_state, first_team, wait_for_operation

pytestmark = [pytest.mark.cluster, pytest.mark.worker]


def test_ip_range_aux_addresses_and_mtu_reach_the_swarm_and_its_containers(celery_worker_process, tenant_cluster):
    cluster = tenant_cluster
    subnet = cluster_capacity(cluster=cluster).next_block
    upper = list(subnet.subnets(prefixlen_diff=1))[1]
    hosts = list(subnet.hosts())
    aux = {"router": str(hosts[1]), "firewall": str(hosts[2])}
    operation = wait_for_operation(
        network_create(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="edge-net",
            subnet=str(subnet),
            ip_range=str(upper),
            aux_addresses=aux,
            mtu=1400,
        )
    )
    assert operation.status == Operation.Status.SUCCEEDED, operation.error
    network = Network.objects.get(pk=operation.network_id)

    # `docker network inspect` on the manager: the range, the MTU option, attachable.
    attrs = docker_engine.inspect_network(cluster.docker, network.docker_id)
    config = attrs["IPAM"]["Config"][0]
    assert (config["Subnet"], config["IPRange"], config["Gateway"]) == (str(subnet), str(upper), str(hosts[0]))
    assert attrs["Options"]["com.docker.network.driver.mtu"] == "1400" and attrs["Attachable"] is True
    # The portal's inspect: the same, and the auxiliary addresses the swarm does not keep.
    inspected = network_inspect(network=network, timeout=30)
    assert inspected["IPAM"]["Config"][0]["IPRange"] == str(upper)
    assert inspected["IPAM"]["Config"][0]["AuxiliaryAddresses"] == aux
    assert inspected["Options"]["com.docker.network.driver.mtu"] == "1400"
    state = consul_state(network=network)["network"]
    assert (state["ip_range"], state["aux_addresses"], state["mtu"], state["attachable"]) == (
        str(upper),
        aux,
        1400,
        True,
    )

    # A container on it: an address from the range, and the MTU the overlay driver gives (1400 - 50).
    ran = wait_for_operation(
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="mtu-probe",
            image="overlay-portal/tools:latest",
            command=["sleep", "600"],
            networks=[{"network": network}],
        )
    )
    assert ran.status == Operation.Status.SUCCEEDED, ran.error
    container = ran.container
    container.refresh_from_db()
    endpoint = container.endpoints.get(network=network)
    assert ipaddress.IPv4Address(endpoint.ipv4_address) in upper
    code, output = docker_engine.exec_in_container(container.node.docker, container.docker_id, ["ip", "link"])
    assert code == 0, output
    interface = next(line for line in output.splitlines() if re.search(r"\beth\d+@", line))
    assert re.search(r"\bmtu (\d+)\b", interface)[1] == str(network.container_mtu) == "1350", output

    # A static address on a device is refused, naming it; nothing else is held for it.
    with pytest.raises(ServiceError) as excinfo:
        container_run(
            actor=Actor.system("tests"),
            tenant=first_team(cluster),
            cluster=cluster,
            name="on-router",
            image="overlay-portal/tools:latest",
            networks=[{"network": network, "ipv4_address": aux["router"]}],
        )
    assert excinfo.value.code == "address_is_aux" and "auxiliary address of router" in excinfo.value.message


def test_a_dotted_name_is_refused_before_anything_is_held(tenant_cluster):
    before = SubnetAllocation.objects.count()
    with pytest.raises(ServiceError) as excinfo:
        network_create(
            actor=Actor.system("tests"), tenant=first_team(tenant_cluster), cluster=tenant_cluster, name="my.net"
        )
    assert (excinfo.value.code, excinfo.value.field, excinfo.value.http_status) == ("invalid_name", "name", 400)
    assert SubnetAllocation.objects.count() == before


def test_the_health_refresh_reads_each_nodes_underlay_mtu(tenant_cluster):
    cluster_refresh_health(cluster=tenant_cluster)
    assert {node.name: node.underlay_mtu for node in tenant_cluster.nodes.all()} == {"node1": 1500, "node2": 1500}
