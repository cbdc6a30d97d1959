"""Run as a separate process by the concurrency test: allocate N blocks and mirror them in Consul."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from networks.models import Cluster  # noqa: E402
from networks.services.allocations import subnet_allocate, subnet_reserve_in_consul  # noqa: E402


def main(cluster_id: int, count: int, tag: str) -> None:
    cluster = Cluster.objects.get(pk=cluster_id)
    for index in range(count):
        allocation = subnet_allocate(cluster=cluster, owner=f"{tag}-{index}")
        subnet_reserve_in_consul(allocation=allocation)
        print(allocation.cidr, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
