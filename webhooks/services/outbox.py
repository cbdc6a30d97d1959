"""The outbox: as a change is recorded (portal/changes.py), one delivery per endpoint of the team that
asked for its event, written in the same transaction, and a word to the relay once it commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import cast

from django.conf import settings
from django.utils import timezone

from networks.api.serializers.containers import ContainerSerializer
from networks.api.serializers.networks import NetworkSerializer
from networks.api.serializers.operations import OperationSerializer
from networks.models import Container, Operation
from networks.selectors.networks import network_rows, network_rows_with_containers
from networks.selectors.operations import operation_as_row
from networks.services import queue
from plumbing.prepared import PreparedObjects, Read
from portal.changes import foreseen
from portal.models import AuditEntry, Tenant

from ..events import event_matches
from ..models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
DELIVER = "webhooks.deliver"
RELAY = "webhooks.relay"


@dataclass
class TeamView:
    """What the API's serializers read of a request: the asking team, and the portal's address for links."""

    tenant: Tenant
    GET: dict = field(default_factory=dict)  # no query: links are built without one

    def build_absolute_uri(self, path: str) -> str:
        return settings.WEBHOOK_PORTAL_URL.rstrip("/") + path


def object_shown(*, tenant: Tenant, object_type: str, object_id: str, object_repr: str) -> dict:
    """The object as the team's API shows it (the API's own serializers: secret values masked), or its id
    and name when it is gone or of a kind the API does not show."""
    context = {"request": TeamView(tenant)}
    try:
        if object_type == "networks.network":
            rows = network_rows_with_containers(
                list(network_rows(tenant=tenant, columns=NetworkSerializer.columns()).filter(pk=object_id))
            )
            if rows:
                return dict(NetworkSerializer(rows[0], context=context).data)
        elif object_type == "networks.container":
            container = Container.objects.filter(tenant=tenant, pk=object_id).first()
            if container is not None:
                return dict(ContainerSerializer(container, context=context).data)
        elif object_type == "networks.operation":
            operation = Operation.objects.filter(tenant=tenant, pk=object_id).first()
            if operation is not None:
                return dict(OperationSerializer(operation_as_row(operation), context=context).data)
    except (ValueError, TypeError, LookupError):
        logger.exception("webhook body: %s %s could not be shown as the API shows it", object_type, object_id)
    return {"id": object_id, "name": object_repr}


def body_of(*, message_id: str, event_type: str, tenant: Tenant, at, data: dict) -> dict:
    return {"id": message_id, "type": event_type, "timestamp": at.isoformat(), "team": tenant.slug, "data": data}


# Every change reads them (most teams have none): compiled once (plumbing/prepared.py). Ordered by key alone: the
# model's ordering (its team's name first) joins the team's row for one team's endpoints.
_endpoints = PreparedObjects(
    lambda tenant: WebhookEndpoint.objects.filter(tenant=tenant).order_by("pk").only("pk", "events"), "tenant"
)


def deliveries_record(entries: list[AuditEntry]) -> None:
    """Called inside the changes' transaction: a delivery for each of the team's endpoints that wants each
    change. A batch's changes read each team's endpoints once and write their deliveries in one INSERT."""
    endpoints_of: dict[int, list[WebhookEndpoint]] = {}
    deliveries: list[WebhookDelivery] = []
    for entry in entries:
        tenant = entry.tenant
        if tenant is None or entry.action.startswith("webhook."):
            continue
        if tenant.pk not in endpoints_of:
            ahead, endpoints = foreseen(deliveries_record, tenant.pk)  # read before a lock (changes_foreseen)
            endpoints_of[tenant.pk] = cast(list, endpoints) if ahead else _endpoints(tenant=tenant.pk)
        endpoints = [endpoint for endpoint in endpoints_of[tenant.pk] if event_matches(entry.action, endpoint.events)]
        if not endpoints:
            continue
        shown = object_shown(
            tenant=tenant, object_type=entry.object_type, object_id=entry.object_id, object_repr=entry.object_repr
        )
        data = {"object_type": entry.object_type, "object": shown, "actor": entry.actor, "details": entry.details}
        deliveries.extend(
            delivery_new(endpoint=endpoint, event_type=entry.action, tenant=tenant, data=data, at=entry.created)
            for endpoint in endpoints
        )
    WebhookDelivery.objects.bulk_create(deliveries)
    for endpoint_id in dict.fromkeys(delivery.endpoint_id for delivery in deliveries):
        relay_wake(endpoint_id=endpoint_id)


def endpoints_foresee(tenant: Tenant) -> Read:
    """The read of the team's endpoints, as `deliveries_record` reads them, to read ahead (portal/changes.py
    `changes_foreseen`: sent with others)."""
    return Read(_endpoints, {"tenant": tenant.pk})


def delivery_add(*, endpoint: WebhookEndpoint, event_type: str, tenant: Tenant, data: dict, at=None) -> WebhookDelivery:
    delivery = delivery_new(endpoint=endpoint, event_type=event_type, tenant=tenant, data=data, at=at)
    delivery.save(force_insert=True)
    relay_wake(endpoint_id=endpoint.pk)
    return delivery


def delivery_new(*, endpoint: WebhookEndpoint, event_type: str, tenant: Tenant, data: dict, at=None) -> WebhookDelivery:
    """A delivery of one event to one endpoint, as `delivery_add` records it, not saved yet."""
    message_id = WebhookDelivery.new_message_id()
    at = at or timezone.now()
    return WebhookDelivery(
        endpoint=endpoint,
        message_id=message_id,
        event_type=event_type,
        payload=body_of(message_id=message_id, event_type=event_type, tenant=tenant, at=at, data=data),
        next_attempt=timezone.now(),
    )


def relay_wake(*, endpoint_id: int) -> None:
    """Have a worker send the endpoint's deliveries once this commits; a task queue that does not answer
    loses nothing (the relay's sweep finds the deliveries in the database)."""
    queue.send_on_commit(DELIVER, endpoint_id, robust=True)
