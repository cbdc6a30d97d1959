"""The admin's cluster and node pages show what the swarm reports about a node read-only."""

import pytest

from networks.models import Node
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def test_a_nodes_runtime_fields_are_shown_not_edited(client, team):
    node = team.node("node1")
    Node.objects.filter(pk=node.pk).update(listening_ports=[[22, "tcp"], [53, "udp"]], consul_container="op-consul")
    client.force_login(make_staff("root"))

    page = client.get(f"/admin/networks/cluster/{team.cluster.pk}/change/").content.decode()
    assert "22/tcp, 53/udp" in page and "op-consul" in page
    for field in ("name", "role", "address", "state", "last_seen_0", "listening_ports", "consul_container"):
        assert f'name="nodes-0-{field}"' not in page, field
    assert 'name="nodes-0-DELETE"' not in page

    page = client.get(f"/admin/networks/node/{node.pk}/change/").content.decode()
    assert "22/tcp, 53/udp" in page and 'name="address"' in page
    for field in ("state", "last_seen_0", "listening_ports", "consul_container"):
        assert f'name="{field}"' not in page, field
