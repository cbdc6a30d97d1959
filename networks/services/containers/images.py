"""Images for runs: a pull with its progress on the operation, what the nodes and the cluster's registry
hold, and that answer cached for the run form."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from networks.engine import EngineError
from networks.engine import images as images_engine
from networks.engine import registry as registry_engine
from networks.models import Cluster, Operation
from plumbing.errors import ServiceError

from .. import queue
from ..operations import operation_progress, operation_transfer
from ..registries import registry_auth_for, registry_of

logger = logging.getLogger(__name__)

PULL_PROGRESS_EVERY = 0.25  # seconds between two writes of a pull's progress


def image_pull(*, operation: Operation, node, image: str) -> None:
    """Pull an image the node lacks, with the team's login to its registry, the operation showing layers
    and bytes as they come (written at most every PULL_PROGRESS_EVERY seconds, and at the end)."""
    operation_progress(operation=operation, message=f"{node.name} does not have {image}: pulling it.")
    began, written = time.monotonic(), 0.0

    def tell(tally, force=False):
        nonlocal written
        if force or time.monotonic() - written >= PULL_PROGRESS_EVERY:
            written = time.monotonic()
            operation_transfer(operation=operation, transfer=tally.summary())

    try:
        tally = images_engine.pull_image(
            node.docker, image, auth=registry_auth_for(tenant=operation.tenant, image=image), on_progress=tell
        )
    except EngineError as error:
        if error.code != "image_unavailable":
            raise
        raise EngineError(  # the sentence at the top of the container's page: name what was looked for, and where
            f"{node.name} does not have {image} and {registry_of(image)} could not give it: check the image's name "
            "and tag (the run form lists the images the cluster and its registry have).",
            code=error.code,
            raw=error.raw,
        ) from error
    tell(tally, force=True)
    done = tally.summary()
    operation_progress(
        operation=operation,
        message=f"Pulled {image} on {node.name}: {done['layers_total']} layers, "
        f"{done['bytes_total'] / 1e6:.1f} MB in {time.monotonic() - began:.1f} s.",
    )


def cluster_images_run(*, cluster: Cluster) -> dict[str, list[str]]:
    """The images each node already has (what a run can start without a pull), and those the cluster's
    registry holds (a run pulls them)."""
    images = {node.name: images_engine.list_images(node.docker) for node in cluster.nodes.all()}
    if cluster.registry:
        try:
            images[f"registry {cluster.registry}"] = registry_engine.catalog(cluster.registry, tls=cluster.tls)
        except EngineError as error:
            logger.warning("%s: %s", cluster.name, error)  # the nodes' images are still worth offering
    return images


IMAGES_FRESH_SECONDS = 60  # how long a worker's look at the nodes' images is reused
IMAGES_RETRY_SECONDS = 15  # after a look that got no answer, how long until a worker is asked again


def cluster_images(*, cluster: Cluster, timeout: float) -> list[str]:
    """The images on every node of the cluster, asked of a worker (the run form offers them).

    Answers are reused for a minute, and a question that got no answer is not asked again for a
    while, so a page never waits on a busy or absent worker more than once in a row.
    """
    key = f"cluster-images:{cluster.pk}"
    cached = cache.get(key)
    if isinstance(cached, list):
        return cached
    if cached is not None:
        raise ServiceError("images_unknown", cached, http_status=503)
    try:
        by_node = queue.ask(queue.CLUSTER_IMAGES, cluster.pk, timeout=timeout)
    except Exception as error:  # the worker's failure, reported by Celery from another process
        sentence = queue.worker_failure_sentence(error)
        cache.set(key, sentence, IMAGES_RETRY_SECONDS)
        raise ServiceError("images_unknown", sentence, http_status=503) from error
    images = sorted({image for images in by_node.values() for image in images})
    cache.set(key, images, IMAGES_FRESH_SECONDS)
    return images
