"""The Webhooks page: every member sees the team's endpoints and their delivery log; owners add (the
secret is shown once, on the answer), rotate, resume, ping, send again and remove. Nothing here sends:
the relay's workers do."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from plumbing.errors import USER_ERRORS
from plumbing.forms import submit
from portal.actors import Actor
from portal.tenancy import require_manage, tenant_required

from .forms import WebhookEndpointForm
from .selectors import (
    DELIVERIES_SHOWN,
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)
from .services import endpoints as services


@tenant_required
@require_http_methods(["GET", "POST"])
def webhook_list_view(request):
    form = WebhookEndpointForm(request.POST or None)
    status, secret, created = 200, None, None
    if request.method == "POST":
        require_manage(request, services.OWNERS_ONLY)
        answer, status = submit(
            form,
            lambda data: services.endpoint_create(
                actor=Actor.of(request),
                tenant=request.tenant,
                url=data["url"],
                events=data["events"],
                description=data["description"],
            ),
        )
        if answer is not None:
            created, secret = answer
            status, form = 201, WebhookEndpointForm()
    context = {
        "form": form,
        "endpoints": webhook_endpoint_list(tenant=request.tenant),
        "created": created,
        "secret": secret,
    }
    return render(request, "webhooks/webhook_list.html", context, status=status)


def _detail(request, endpoint, *, secret: str | None = None, status: int = 200):
    context = {
        "endpoint": endpoint,
        "deliveries": webhook_delivery_list(endpoint=endpoint)[:DELIVERIES_SHOWN],
        "secret": secret,
    }
    return render(request, "webhooks/webhook_detail.html", context, status=status)


@tenant_required
@require_GET
def webhook_detail_view(request, pk: int):
    return _detail(request, webhook_endpoint_get(tenant=request.tenant, pk=pk))


def _owner_action(request, pk: int, act, done: str):
    require_manage(request, services.OWNERS_ONLY)
    endpoint = webhook_endpoint_get(tenant=request.tenant, pk=pk)
    try:
        act(endpoint)
    except USER_ERRORS as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("webhooks:webhook_detail", pk=pk)


@tenant_required
@require_POST
def webhook_ping_view(request, pk: int):
    return _owner_action(
        request,
        pk,
        lambda endpoint: services.endpoint_ping(actor=Actor.of(request), endpoint=endpoint),
        "A test ping is queued: it shows in the delivery log below once a worker has sent it.",
    )


@tenant_required
@require_POST
def webhook_resume_view(request, pk: int):
    return _owner_action(
        request,
        pk,
        lambda endpoint: services.endpoint_resume(actor=Actor.of(request), endpoint=endpoint),
        "The webhook sends again, from the oldest delivery waiting.",
    )


@tenant_required
@require_POST
def webhook_redeliver_view(request, pk: int, delivery_id: int):
    def again(endpoint):
        delivery = webhook_delivery_get(endpoint=endpoint, pk=delivery_id)
        services.delivery_send_again(actor=Actor.of(request), delivery=delivery)

    return _owner_action(request, pk, again, "The delivery is queued again, under the same webhook-id.")


@tenant_required
@require_POST
def webhook_rotate_view(request, pk: int):
    require_manage(request, services.OWNERS_ONLY)
    endpoint = webhook_endpoint_get(tenant=request.tenant, pk=pk)
    secret = services.endpoint_rotate_secret(actor=Actor.of(request), endpoint=endpoint)
    return _detail(request, webhook_endpoint_get(tenant=request.tenant, pk=pk), secret=secret)


@tenant_required
@require_POST
def webhook_remove_view(request, pk: int):
    require_manage(request, services.OWNERS_ONLY)
    endpoint = webhook_endpoint_get(tenant=request.tenant, pk=pk)
    services.endpoint_remove(actor=Actor.of(request), endpoint=endpoint)
    messages.success(request, f"The webhook to {endpoint.url} is removed; nothing more is sent to it.")
    return redirect("webhooks:webhook_list")
