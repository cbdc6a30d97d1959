"""What mutual TLS costs a Docker call, and how long the tutorial's stand-in images take to pull.

The same call (`docker version`: GET /version, through the docker SDK as the portal makes it) on
the local cluster's manager, over its TLS port with the bundle (as the portal calls every node)
and over its unix socket (plain, no TLS: the baseline), alternating, REPEATS times each: once on a
kept connection (how a worker calls, its client cached) and once with a new client per call (a TLS
handshake each time). Then each stand-in image is removed from node2 and pulled from the cluster's
registry (TLS from the cluster's CA), PULLS times, through the portal's engine adapter.

Run: `.venv/bin/python bench/tls.py` after `make setup`. The last line reads
`tls: kept connection +<ms> ms (<x>x), new connection +<ms> ms (<x>x)`.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import docker
import docker.errors

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from networks.bundles import bundle_read  # noqa: E402
from networks.engine import docker as docker_engine  # noqa: E402
from networks.engine import images as images_engine  # noqa: E402
from networks.engine.endpoints import DockerEndpoint  # noqa: E402

REPEATS, PULLS = 200, 3
DESCRIPTION = Path(os.environ.get("OVERLAY_PORTAL_CLUSTER_FILE", "/var/lib/overlay-portal/cluster.json"))


def median_ms(call, times: int) -> float:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def main() -> int:
    description = json.loads(DESCRIPTION.read_text())
    bundle = bundle_read(Path(description["bundle"]).read_bytes())
    manager, node2 = description["nodes"][0], description["nodes"][1]
    tls = DockerEndpoint(manager["docker_endpoint"], bundle.tls)
    plain = manager["docker_socket"]
    kept_tls, kept_plain = docker_engine.client(tls), docker_engine.client(plain)
    kept = {"tls": [], "plain": []}
    fresh = {"tls": [], "plain": []}
    for _ in range(5):  # alternate, so that whatever else the machine does falls on both
        kept["tls"].append(median_ms(kept_tls.version, REPEATS // 5))
        kept["plain"].append(median_ms(kept_plain.version, REPEATS // 5))
        fresh["tls"].append(median_ms(lambda: _fresh(tls).version(), REPEATS // 20))
        fresh["plain"].append(median_ms(lambda: _fresh(plain).version(), REPEATS // 20))
    results = {}
    for name, runs in (("kept connection", kept), ("new connection", fresh)):
        over, base = statistics.median(runs["tls"]), statistics.median(runs["plain"])
        results[name] = (over - base, over / base)
        print(f"{name:<16} TLS {over:7.2f} ms   unix socket (plain) {base:7.2f} ms   ratio {over / base:5.2f}x")
    node = DockerEndpoint(node2["docker_endpoint"], bundle.tls)
    for image in description["images"]["registry"][1:]:
        times, size = [], 0
        for _ in range(PULLS):
            with contextlib.suppress(docker.errors.ImageNotFound):
                docker_engine.client(node).images.remove(image, force=True)
            began = time.perf_counter()
            tally = images_engine.pull_image(node, image)
            times.append(time.perf_counter() - began)
            size = tally.summary()["bytes_total"]
        print(f"pull {image} on node2: {statistics.median(times):.2f} s (median of {PULLS}), {size / 1e6:.1f} MB")
    (kept_add, kept_ratio), (fresh_add, fresh_ratio) = results["kept connection"], results["new connection"]
    print(
        f"tls: kept connection +{kept_add:.2f} ms ({kept_ratio:.2f}x), new connection +{fresh_add:.2f} ms ({fresh_ratio:.2f}x)"
    )
    return 0


def _fresh(endpoint):
    """A client made for one call (no cache): its first request opens the connection."""
    docker_engine.client.cache_clear()
    return docker_engine.client(endpoint)


if __name__ == "__main__":
    sys.exit(main())
