"""Adapter over a registry's HTTP API (distribution v2): what images it holds."""

from __future__ import annotations

import requests

from .docker import pem_files
from .endpoints import TlsCredentials
from .errors import EngineError

DEFAULT_TIMEOUT = 5
MAX_REPOSITORIES = 200


def catalog(address: str, *, tls: TlsCredentials | None) -> list[str]:
    """Every image (repository:tag) the registry at host:port holds, trusting the cluster's CA for it."""
    session = requests.Session()
    session.trust_env = False  # a registry of the cluster is never behind the machine's proxy
    session.verify = pem_files(tls)[0] if tls else True
    try:
        listing = session.get(f"https://{address}/v2/_catalog", params={"n": MAX_REPOSITORIES}, timeout=DEFAULT_TIMEOUT)
        listing.raise_for_status()
        images = []
        for repository in listing.json().get("repositories") or []:
            tags = session.get(f"https://{address}/v2/{repository}/tags/list", timeout=DEFAULT_TIMEOUT)
            tags.raise_for_status()
            images += [f"{address}/{repository}:{tag}" for tag in tags.json().get("tags") or []]
    except (requests.RequestException, ValueError) as error:
        raise EngineError(
            f"The registry {address} could not be read ({type(error).__name__}); only the nodes' images are offered.",
            code="registry_unreadable",
            raw=str(error),
        ) from error
    return sorted(images)
