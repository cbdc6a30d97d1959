"""Where a Docker engine answers, and the credentials it asks for (a Carina-style bundle's three PEMs).

Plain values, no I/O: models build them from what the database holds, adapters connect with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TlsCredentials:
    """Mutual TLS: the CA that signed the cluster's certificates, and the client's certificate and key."""

    ca_pem: str
    cert_pem: str
    key_pem: str = field(repr=False)


@dataclass(frozen=True)
class DockerEndpoint:
    """A Docker API address (tcp://host:2376, unix:///path) and, over TCP, the TLS credentials it needs."""

    url: str
    tls: TlsCredentials | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.url


def docker_endpoint_of(value: DockerEndpoint | str) -> DockerEndpoint:
    return value if isinstance(value, DockerEndpoint) else DockerEndpoint(value)


@dataclass(frozen=True)
class ConsulEndpoint:
    """A Consul HTTP API address and, when the cluster's Consul has ACLs, the token to send."""

    url: str
    token: str = field(default="", repr=False)

    def __str__(self) -> str:
        return self.url


def consul_endpoint_of(value: ConsulEndpoint | str) -> ConsulEndpoint:
    return value if isinstance(value, ConsulEndpoint) else ConsulEndpoint(value)
