"""How full a network is: the API's figures, the pages' badges and the dashboard's line at the warning
level (settings.NETWORK_UTILIZATION_WARNING), and a run or a connect refused up front once no address
is left to give. (The Prometheus family is in tests/networks/test_metrics.py.)"""

import pytest

from tests.apiclient import assert_error

pytestmark = pytest.mark.django_db


def figures(team, network) -> tuple:
    shown = team.api().get(f"networks/{network.pk}/").json()
    return shown["addresses_used"], shown["addresses_usable"], shown["utilization"]


def test_a_small_network_fills_warns_and_then_refuses_a_run(team, client):
    network = team.network("tiny", prefixlen=29)  # 6 host addresses, the gateway one of them
    assert figures(team, network) == (1, 6, 0.1667)
    for number in range(4):
        team.container(f"c{number}", networks=[{"network": network}])
    assert figures(team, network) == (5, 6, 0.8333)

    client.force_login(team.member)
    listed = client.get("/networks/").content.decode()
    assert "5 of 6" in listed and '<span class="badge usage-warn"' in listed and "83% full" in listed
    dashboard = client.get("/").content.decode()
    assert "Networks filling up" in dashboard and "1 of your networks is at least 80% full" in dashboard

    team.container("c4", networks=[{"network": network}])
    assert figures(team, network) == (6, 6, 1.0)
    assert '<span class="badge usage-full"' in client.get(f"/networks/{network.pk}/").content.decode()
    error = assert_error(
        team.api().post(
            "containers/",
            {"name": "one-too-many", "image": "overlay-portal/tools:latest", "networks": [{"network": network.pk}]},
        ),
        409,
        "network_full",
        field="networks",
    )
    assert error["message"] == (
        'Network "tiny" has no address left to give (6 of 6 used). Docker cannot resize a network: create a new, '
        "larger one (each size down doubles it: a /23 holds 510) and move containers to it, or disconnect "
        "containers you no longer need."
    )
    loose = team.container("loose")
    assert_error(team.api().post(f"networks/{network.pk}/connect/", {"container": loose.pk}), 409, "network_full")


def test_the_ip_range_is_what_counts_and_a_static_address_outside_it_still_fits(team):
    network = team.network(
        "ranged", subnet="10.0.42.0/24", ip_range="10.0.42.248/29", aux_addresses={"router": "10.0.42.2"}
    )
    assert figures(team, network) == (0, 7, 0.0), "the gateway and the router lie outside the range"
    for number in range(7):
        team.container(f"r{number}", networks=[{"network": network}])
    assert figures(team, network)[2] == 1.0
    static = team.api().post(
        "containers/",
        {
            "name": "static",
            "image": "overlay-portal/tools:latest",
            "networks": [{"network": network.pk, "ipv4_address": "10.0.42.20"}],
        },
    )
    assert static.status_code == 202, static.content
    assert figures(team, network)[:2] == (7, 7)


def test_the_warning_level_is_a_setting(team, client, settings):
    network = team.network("half", prefixlen=29)
    team.container("h1", networks=[{"network": network}])
    team.container("h2", networks=[{"network": network}])  # 3 of 6
    client.force_login(team.member)
    assert "usage-warn" not in client.get("/networks/").content.decode()
    settings.NETWORK_UTILIZATION_WARNING = 0.5
    assert "50% full" in client.get("/networks/").content.decode()
