"""Operation pages: the team's operations, one operation's progress kept live, and its row in lists."""

from __future__ import annotations

import hashlib

from django.shortcuts import render
from django.views.decorators.http import require_GET

from networks.filters import OperationFilterSet
from networks.models import Operation
from networks.selectors.operations import operation_get, operation_list, operation_waiting_for
from networks.services import notices
from plumbing.live import hold_until_changed, paginate, render_live, unchanged
from portal.tenancy import tenant_required


@tenant_required
@require_GET
def operation_list_view(request):
    filterset = OperationFilterSet(request.GET, queryset=operation_list(tenant=request.tenant), tenant=request.tenant)
    context = {
        "filterset": filterset,
        "page": paginate(request, filterset.qs),
        "sort": filterset.sort_columns(),
        "statuses": Operation.Status.choices,
        "kinds": Operation.Kind.choices,
        "selected_statuses": request.GET.getlist("status"),
        "selected_kinds": request.GET.getlist("kind"),
    }
    # Unfinished rows poll for their own progress; the list looks every 10 s for new operations.
    return render_live(
        request,
        page_template="networks/operation_list.html",
        part_template="networks/_operation_results.html",
        context=context,
        target="results",
    )


def _shown(value) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _progress_context(operation: Operation) -> dict:
    result = operation.result.items() if operation.status == Operation.Status.SUCCEEDED else []
    waiting_for = operation_waiting_for(operation=operation)
    # A wait for the cluster counts its seconds at every read: the wait itself (since when) is the news.
    waiting = operation.waiting_since if operation.waits_on else waiting_for
    shown = f"{operation.status}|{len(operation.progress)}|{operation.attempts}|{waiting}|{operation.transfer}"
    return {
        "operation": operation,
        "result": [(key, _shown(value)) for key, value in result],
        "waiting_for": waiting_for,
        "version": hashlib.blake2s(shown.encode(), digest_size=8).hexdigest(),
    }


@tenant_required
@require_GET
def operation_detail_view(request, pk: int):
    operation = operation_get(tenant=request.tenant, pk=pk)
    params = [(key, _shown(value)) for key, value in operation.params.items()]
    return render(request, "networks/operation_detail.html", {**_progress_context(operation), "params": params})


@tenant_required
@require_GET
def operation_progress_view(request, pk: int):
    """The long-polled progress of one operation: answered at its next step; the fragment stops asking
    once the operation has finished."""

    def current() -> dict:
        return _progress_context(operation_get(tenant=request.tenant, pk=pk))

    context = hold_until_changed(request, current, notices.page_waiter("operation", pk))
    if context is None:
        return unchanged()
    return render(request, "networks/_operation_progress.html", context)


@tenant_required
@require_GET
def operation_row_view(request, pk: int):
    """One row of an operations table, polled while its operation runs."""
    operation = operation_get(tenant=request.tenant, pk=pk)
    return render(
        request, "networks/_operation_row.html", {"operation": operation, "compact": "compact" in request.GET}
    )
