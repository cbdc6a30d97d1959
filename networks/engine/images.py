"""Images on a node: whether it has one, pulling one (with a tally of its layers for the page), and the
list of what it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

import docker.errors

from .docker import client
from .endpoints import DockerEndpoint
from .refusals import translate, translated


@dataclass
class PullTally:
    """A pull as Docker streams it, summed up: each layer's state and bytes, and the totals.

    Docker sends one event per step of each layer ("Pulling fs layer", "Downloading" with
    progressDetail current/total, "Download complete", "Extracting", "Pull complete", or
    "Already exists"); this keeps what a person watching wants: layers done of all, bytes of bytes.
    """

    image: str
    layers: dict = field(default_factory=dict)  # id -> {"status", "current", "total"}
    error: str = ""

    DONE = ("Pull complete", "Already exists")

    def add(self, event: dict) -> None:
        if event.get("error"):
            self.error = str(event["error"])
            return
        layer_id, status = event.get("id"), event.get("status", "")
        if not layer_id or status.startswith(("Pulling from", "Digest:", "Status:")) or layer_id == self.tag:
            return
        layer = self.layers.setdefault(layer_id, {"status": "", "current": 0, "total": 0})
        layer["status"] = status
        detail = event.get("progressDetail") or {}
        if status == "Downloading" and detail.get("total"):
            layer["current"], layer["total"] = int(detail.get("current", 0)), int(detail["total"])
        elif status in ("Download complete", "Verifying Checksum", "Extracting", *self.DONE) and layer["total"]:
            layer["current"] = layer["total"]

    @property
    def tag(self) -> str:
        return self.image.rpartition(":")[2] if ":" in self.image.rpartition("/")[2] else "latest"

    def summary(self) -> dict:
        layers = self.layers.values()
        return {
            "image": self.image,
            "layers_total": len(self.layers),
            "layers_done": sum(1 for layer in layers if layer["status"] in self.DONE),
            "bytes_total": sum(layer["total"] for layer in layers),
            "bytes_done": sum(layer["current"] for layer in layers),
        }


def has_image(endpoint: DockerEndpoint | str, image: str) -> bool:
    with translated():
        try:
            client(endpoint).images.get(image)
        except docker.errors.ImageNotFound:
            return False
    return True


def pull_image(endpoint: DockerEndpoint | str, image: str, *, auth: dict | None = None, on_progress=None) -> PullTally:
    """Pull an image onto one node, telling `on_progress(tally)` after each event Docker streams."""
    repository, _, tag = image.rpartition(":") if ":" in image.rpartition("/")[2] else (image, "", "latest")
    tally = PullTally(image=image)
    with translated():
        for event in client(endpoint).api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth):
            tally.add(event)
            if tally.error:
                raise translate(docker.errors.APIError(tally.error))
            if on_progress is not None:
                on_progress(tally)
    return tally


def list_images(endpoint: DockerEndpoint | str) -> list[str]:
    with translated():
        return sorted(tag for image in client(endpoint).images.list() for tag in image.tags)
