"""What a cluster keeps from its last connection: the bundle's credentials (key and token sealed) and
the swarm's nodes, written at registration and at rotation; and the credentials read back as a bundle."""

from __future__ import annotations

from django.utils import timezone

from networks.bundles import Bundle, bundle_seal, certificate_facts
from networks.models import Cluster, Node

from .connect import SwarmFound


def cluster_credentials_set(cluster: Cluster, found: SwarmFound, bundle: Bundle) -> None:
    """Put the bundle's credentials and the addresses found on the cluster (not saved: the caller saves)."""
    assert bundle.tls is not None, "a bundle given to register or rotate with always holds its TLS files"
    facts = certificate_facts(bundle.tls.cert_pem)
    sealed = bundle_seal(bundle)
    cluster.docker_endpoint = found.docker_host
    cluster.consul_address = found.consul_address
    cluster.tls_ca, cluster.tls_cert = bundle.tls.ca_pem, bundle.tls.cert_pem
    cluster.tls_key_sealed, cluster.consul_token_sealed = sealed["key_sealed"], sealed["consul_token_sealed"]
    cluster.credentials_expire = facts.not_after
    cluster.credentials_updated = timezone.now()
    cluster.__dict__.pop("tls", None)  # the cached opened key is the old one


def cluster_nodes_record(cluster: Cluster, found: SwarmFound) -> None:
    """Record the swarm's nodes as found: new ones added, known ones updated, the ones gone deleted."""
    seen = []
    for node in found.nodes:
        Node.objects.update_or_create(
            cluster=cluster,
            name=node["name"],
            defaults={
                "docker_endpoint": node["docker_endpoint"],
                "address": node["address"],
                "role": Node.Role.MANAGER if node["role"] == "manager" else Node.Role.WORKER,
            },
        )
        seen.append(node["name"])
    cluster.nodes.exclude(name__in=seen).delete()


def cluster_bundle(cluster: Cluster) -> Bundle:
    """The credentials the cluster was registered (or last rotated) with, the key opened: workers only."""
    return Bundle(docker_host=cluster.docker_endpoint, tls=cluster.tls, consul_token=cluster.consul.token)
