"""The allocation map's grids and the topology's placement, computed without Django."""

from ipaddress import IPv4Network as Net

from hypothesis import given
from hypothesis import strategies as st

from networks.diagrams import allocation_map as allocation_map_diagram
from networks.diagrams import topology as topology_diagram
from networks.diagrams.allocation_map import Holder, HolderIndex, HolderKind

NETWORK, EXTERNAL, SERVICENET = HolderKind.NETWORK, HolderKind.EXTERNAL, HolderKind.SERVICENET

POOL = Net("10.0.0.0/8")
HOLDERS = [
    Holder.of(Net("10.0.0.0/24"), EXTERNAL, 'external network "ingress"'),
    Holder.of(Net("10.0.1.0/24"), NETWORK, 'network "web"', network_id=7),
    Holder.of(Net("10.0.2.0/25"), NETWORK, 'network "half"', network_id=8),
    Holder.of(Net("10.176.224.0/19"), SERVICENET, "ServiceNet"),
]


def test_a_slash_8_is_drawn_as_256_slash_16s_and_the_256_slash_24s_of_the_next_free_block():
    picture = allocation_map_diagram.allocation_map(POOL, 24, HOLDERS, next_block=Net("10.0.3.0/24"))
    assert len(picture.overview) == 256 and picture.overview_prefixlen == 16
    assert picture.focus == Net("10.0.0.0/16")
    assert len(picture.detail) == 256 and picture.detail_prefixlen == 24
    states = [cell.state for cell in picture.detail[:5]]
    assert states == ["external", "network", "partial", "next", "free"]
    # 16 x 16, row by row
    assert (picture.detail[17].column, picture.detail[17].row) == (1, 1)


def test_hovering_names_the_owner():
    picture = allocation_map_diagram.allocation_map(POOL, 24, HOLDERS, next_block=Net("10.0.3.0/24"))
    detail = picture.detail
    assert detail[1].title == '10.0.1.0/24: network "web"'
    assert detail[2].title == '10.0.2.0/24 (50% held): network "half" (10.0.2.0/25)'
    assert detail[3].title == "10.0.3.0/24: free — the next network gets this block"
    overview = picture.overview
    assert overview[176].title == "10.176.0.0/16 (12% held): ServiceNet (10.176.224.0/19)"
    assert overview[176].kinds == [SERVICENET] and overview[176].level == 1
    assert overview[1].title == "10.1.0.0/16: free" and overview[1].level == 0


def test_a_chosen_slash_16_is_shown_in_detail_and_a_selected_block_lists_its_holders():
    picture = allocation_map_diagram.allocation_map(
        POOL, 24, HOLDERS, next_block=Net("10.0.3.0/24"), focus="10.176.0.0/16", selected="10.176.230.0/24"
    )
    assert picture.focus == Net("10.176.0.0/16")
    assert [c.state for c in picture.detail[222:226]] == ["free", "free", "servicenet", "servicenet"]
    assert picture.detail[230].title == "10.176.230.0/24: part of ServiceNet (10.176.224.0/19)"
    assert picture.selected == Net("10.176.230.0/24")
    assert [h.owner for h in picture.selected_holders] == ["ServiceNet"]


def test_a_focus_outside_the_pool_or_of_the_wrong_size_falls_back_to_the_next_free_block():
    for focus in ("192.168.0.0/16", "10.3.0.0/24", "nonsense", ""):
        picture = allocation_map_diagram.allocation_map(POOL, 24, HOLDERS, next_block=Net("10.3.7.0/24"), focus=focus)
        assert picture.focus == Net("10.3.0.0/16")


def test_a_small_pool_is_one_grid_of_blocks():
    picture = allocation_map_diagram.allocation_map(Net("10.9.0.0/16"), 24, [], next_block=Net("10.9.0.0/24"))
    assert len(picture.overview) == 256 and picture.detail == []
    assert picture.overview[0].state == "next"


def test_a_full_pool_has_no_next_block():
    holders = [Holder.of(Net("10.9.0.0/16"), NETWORK, 'network "all"', network_id=1)]
    picture = allocation_map_diagram.allocation_map(Net("10.9.0.0/16"), 24, holders, next_block=None)
    assert {cell.state for cell in picture.overview} == {NETWORK}
    assert {cell.level for cell in picture.overview} == {4}


@given(
    st.lists(st.tuples(st.integers(0, 255), st.integers(20, 26)), max_size=30),
    st.integers(0, 2**16 - 1),
    st.integers(0, 2**16 - 1),
)
def test_the_index_finds_exactly_the_overlapping_holders(blocks, a, b):
    base = int(Net("10.0.0.0/16").network_address)
    holders = [
        Holder.of(Net((base + (start << 8), length), strict=False), NETWORK, str(i))
        for i, (start, length) in enumerate(blocks)
    ]
    lo, hi = base + min(a, b), base + max(a, b)
    expected = {h for h in holders if h.first <= hi and h.last >= lo}
    assert set(HolderIndex(holders).overlapping(lo, hi)) == expected


def test_topology_places_containers_in_their_node_columns_and_links_them_to_their_buses():
    nodes = [
        topology_diagram.TopoNode("node1", "192.168.250.11", "Manager", "ready"),
        topology_diagram.TopoNode("node2", "192.168.250.12", "Worker", "ready"),
    ]
    networks = [
        topology_diagram.TopoNetwork(1, "front", "10.0.1.0/24", False, "active"),
        topology_diagram.TopoNetwork(2, "back", "10.0.2.0/24", False, "active"),
    ]
    containers = [
        topology_diagram.TopoContainer(
            10, "web", "tools", "running", "node1", True, ["192.168.250.11:80 -> 80/tcp"], False, [1, 2]
        ),
        topology_diagram.TopoContainer(11, "db", "tools", "running", "node2", False, [], False, [2]),
        topology_diagram.TopoContainer(12, "api", "tools", "running", "node1", False, [], False, [1]),
        topology_diagram.TopoContainer(13, "lost", "tools", "running", "node9", False, [], False, []),
    ]
    topology = topology_diagram.topology(nodes, networks, containers)
    node1, node2 = topology.nodes
    assert [c.name for c in node1.containers] == ["web", "api"] and [c.name for c in node2.containers] == ["db"]
    assert node2.x >= node1.x + node1.width
    web, api = node1.containers
    assert api.x > web.x and web.y == api.y == node2.containers[0].y
    assert [(bus_y, colour) for _, bus_y, colour in web.links] == [(networks[0].y, 0), (networks[1].y, 1)]
    assert web.y > networks[1].y > networks[0].y
    assert [c.name for c in topology.unplaced] == ["lost"]
    assert topology.width >= node2.x + node2.width


def test_topology_leaves_out_networks_no_container_is_on_unless_asked():
    def drawn(show_empty: bool):
        networks = [topology_diagram.TopoNetwork(i, f"n{i}", f"10.0.{i}.0/24", False, "active") for i in (1, 2, 3)]
        nodes = [topology_diagram.TopoNode("node1", "192.168.250.11", "Manager", "ready")]
        web = topology_diagram.TopoContainer(10, "web", "tools", "running", "node1", False, [], False, [2])
        return topology_diagram.topology(nodes, networks, [web], show_empty=show_empty)

    few, all_of_them = drawn(False), drawn(True)
    assert [n.name for n in few.networks] == ["n2"] and few.hidden == 2
    assert [n.name for n in all_of_them.networks] == ["n1", "n2", "n3"] and all_of_them.hidden == 0
    assert few.height == all_of_them.height - 2 * topology_diagram.TOPO_BUS_GAP  # two buses fewer
    assert few.nodes[0].containers[0].links[0][1] == few.networks[0].y  # the line reaches the bus still drawn


def test_each_grid_row_holds_its_cells_in_order_under_its_label():
    picture = allocation_map_diagram.allocation_map(POOL, 24, HOLDERS, next_block=Net("10.0.2.128/25"))
    rows = picture.overview_frame.rows
    assert len(rows) == 16 and all(len(row.cells) == 16 for row in rows)
    assert [cell for row in rows for cell in row.cells] == picture.overview
    assert rows[1].label == "10.16" and rows[1].cells[0].block == Net("10.16.0.0/16")
    assert rows[1].label_y == rows[1].cells[0].centre_y + 4
