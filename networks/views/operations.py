from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from networks.filters import OperationFilterSet
from networks.models import Operation
from networks.selectors import operation_get, operation_list, operation_waiting_for
from plumbing.live import paginate, render_live
from portal.tenancy import tenant_required


@tenant_required
@require_GET
def operation_list_view(request):
    filterset = OperationFilterSet(request.GET, queryset=operation_list(tenant=request.tenant), tenant=request.tenant)
    context = {
        "filterset": filterset,
        "page": paginate(request, filterset.qs),
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
    return {
        "operation": operation,
        "result": [(key, _shown(value)) for key, value in result],
        "waiting_for": operation_waiting_for(operation=operation),
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
    """The polled progress of one operation; the fragment stops polling once the operation is finished."""
    operation = operation_get(tenant=request.tenant, pk=pk)
    return render(request, "networks/_operation_progress.html", _progress_context(operation))


@tenant_required
@require_GET
def operation_row_view(request, pk: int):
    """One row of an operations table, polled while its operation runs."""
    operation = operation_get(tenant=request.tenant, pk=pk)
    return render(
        request, "networks/_operation_row.html", {"operation": operation, "compact": "compact" in request.GET}
    )
