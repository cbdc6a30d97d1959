"""What a cluster keeps from its last connection: the bundle's credentials (key and token sealed) and
the swarm's nodes, written at registration and at rotation; the credentials read back as a bundle; and
the audit entry of a change to them, with their public facts only."""

from __future__ import annotations

from django.utils import timezone

from networks.bundles import Bundle, bundle_seal, certificate_facts
from networks.models import Cluster, Node
from networks.selectors.clusters import cluster_credentials
from portal.actors import Actor
from portal.changes import change_record
from portal.models import AuditEntry, Tenant

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


def cluster_change_record(
    *,
    actor: Actor,
    action: str,
    cluster: Cluster,
    cluster_id: int | None = None,
    tenant: Tenant | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Record what staff did to a cluster (register, rotate, deregister) with its credentials' public facts:
    the endpoint, the swarm and the client certificate's fingerprint, never the key or a token.

    `cluster_id`: the id a deregistered cluster had (Django clears it on delete)."""
    credentials = cluster_credentials(cluster)
    facts = {"endpoint": credentials.endpoint, "swarm_id": cluster.swarm_id, "fingerprint": credentials.fingerprint}
    return change_record(
        actor=actor,
        action=action,
        tenant=tenant,
        obj=cluster,
        object_id=cluster_id if cluster_id is not None else cluster.pk,
        details={**facts, **(details or {})},
    )
