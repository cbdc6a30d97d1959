"""The audit log's entries for what people and tokens ask of the domain, written by the pages and the API.

`audited(request, action, answer)` records one entry and hands back the service's answer, so a
view wraps its service call in it and stays one line longer. An operation names its object (the
network or container it acts on) and what was asked for (its params, which hold no secret values).
"""

from __future__ import annotations

from django.db.models import Model

from networks.models import Cluster, Operation, RegistryLogin
from networks.selectors.clusters import cluster_credentials
from portal.audit import audit_record
from portal.models import Tenant


def _operation_details(operation: Operation) -> dict:
    return {"operation": operation.pk, "target": operation.target, **(operation.params or {})}


def audited(request, action: str, answer, *, obj: Model | None = None, details: dict | None = None):
    """Record `action` by the request's user (or token) in its tenant; returns `answer` unchanged."""
    facts = dict(details or {})
    if isinstance(answer, Operation):
        obj = obj or answer.container or answer.network
        facts = {**_operation_details(answer), **facts}
    elif isinstance(answer, list) and all(isinstance(item, Operation) for item in answer):
        if not answer and obj is None:
            return answer  # nothing was there to change
        facts = {"operations": [operation.pk for operation in answer], **facts}
    audit_record(request=request, action=action, obj=obj, tenant=request.tenant, details=facts)
    return answer


def registry_login_audited(request, action: str, login: RegistryLogin, *, login_id: int | None = None) -> None:
    """Record a change to a team's registry login: which registry and user name, never the password.

    `login_id` is the id a removed login had (Django clears it on delete)."""
    details = {"registry": login.registry, "username": login.username}
    audit_record(request=request, action=action, obj=login, object_id=login_id, tenant=request.tenant, details=details)


def cluster_audited(request, action: str, cluster: Cluster, *, tenant: Tenant | None = None) -> Cluster:
    """Record what staff did to a cluster (register, rotate, deregister) with its credentials' public facts:
    the endpoint, the swarm and the client certificate's fingerprint, never the key or a token."""
    credentials = cluster_credentials(cluster)
    details = {"endpoint": credentials.endpoint, "swarm_id": cluster.swarm_id, "fingerprint": credentials.fingerprint}
    audit_record(request=request, action=action, obj=cluster, object_id=cluster.pk, tenant=tenant, details=details)
    return cluster
