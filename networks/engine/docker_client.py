"""The docker SDK's client of a node: one per endpoint and credentials (over mutual TLS, its PEMs in memory),
cached for the process, its requests lean and timed."""

from __future__ import annotations

import functools
import os

import docker
import docker.tls

from .call_times import timed_send
from .endpoints import DockerEndpoint, TlsCredentials, docker_endpoint_of
from .refusals import translated
from .sessions import lean

DEFAULT_TIMEOUT = 30
MIN_API_VERSION = "1.24"  # the oldest the SDK speaks; the portal asks for more (settings.DOCKER_MIN_API_VERSION)


@functools.lru_cache(maxsize=64)
def pem_files(tls: TlsCredentials) -> tuple[str, str, str]:
    """The three PEMs as paths the SDK can load, each an anonymous in-memory file (memfd) that lives
    as long as the process: the private key is never written to a disk."""
    paths = []
    for name, text in (("ca", tls.ca_pem), ("cert", tls.cert_pem), ("key", tls.key_pem)):
        fd = os.memfd_create(f"overlay-portal-{name}", os.MFD_CLOEXEC)
        os.write(fd, text.encode())
        paths.append(f"/proc/self/fd/{fd}")
    return paths[0], paths[1], paths[2]


@functools.lru_cache(maxsize=64)
def client(endpoint: DockerEndpoint | str, timeout: int = DEFAULT_TIMEOUT) -> docker.DockerClient:
    """A cached client per endpoint (and credentials); the SDK negotiates the API version with the engine."""
    endpoint = docker_endpoint_of(endpoint)
    tls = None
    if endpoint.tls is not None:
        ca, cert, key = pem_files(endpoint.tls)
        tls = docker.tls.TLSConfig(client_cert=(cert, key), ca_cert=ca, verify=True)
    with translated():
        docker_client = docker.DockerClient(base_url=endpoint.url, version=MIN_API_VERSION, timeout=timeout, tls=tls)
        # The client is a requests session: with trust_env, REQUESTS_CA_BUNDLE would replace the bundle's CA
        # (requests #3829) and an HTTP(S)_PROXY would carry the cluster's traffic. Neither applies to a node.
        docker_client.api.trust_env = False
        lean(docker_client.api)  # its requests prepared without merging what it never holds (sessions.py)
        docker_client.api.send = timed_send(docker_client.api.send)
        docker_client.api._version = docker_client.api._retrieve_server_version()  # what "auto" does
        return docker_client
