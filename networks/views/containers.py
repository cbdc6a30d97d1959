"""Container pages: the list, the run form, a container's page (kept live), its port query, checks,
its logs (shown, followed, downloaded) and stop/start/restart/remove, and removing every exited one."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from networks.filters import ContainerFilterSet
from networks.forms.containers import (
    PICKER_ADD,
    PICKER_CHOICE,
    PICKER_REMOVE,
    ContainerRunForm,
    DiagnoseForm,
    EnvironmentFormSet,
    PortQueryForm,
    environment_in_use,
    environment_refusal_shown,
    network_picker_step,
)
from networks.models import Container, Operation
from networks.selectors.clusters import cluster_list
from networks.selectors.containers import container_exited_count, container_get, container_image_list, container_list
from networks.selectors.operations import work_in_progress
from networks.services import notices
from networks.services.containers.images import cluster_images
from networks.services.containers.lifecycle import ACTIONS, container_action_request, container_remove_exited
from networks.services.containers.logs import (
    DEFAULT_TAIL,
    LogQuery,
    container_logs,
    logs_as_text,
    parse_log_query,
)
from networks.services.containers.run import container_run
from networks.services.containers.specs import masked_environment
from networks.services.containers.state import container_port_query
from networks.services.diagnostics import container_diagnose
from networks.services.queue import worker_answer, worker_failure_sentence
from plumbing.errors import USER_ERRORS, http_status_of
from plumbing.forms import refuse, shown_unchecked, submit
from plumbing.live import attempt, paginate, render_live, render_status, wants_fragment, watch_version
from portal.actors import Actor
from portal.tenancy import require_change, tenant_required

# Which lifecycle buttons a container in each state offers (the service refuses the rest anyway).
ACTIONS_BY_STATUS = {
    Container.Status.RUNNING: ["stop", "restart", "remove"],
    Container.Status.EXITED: ["start", "remove"],
    Container.Status.FAILED: ["remove"],
}


@tenant_required
@require_GET
def container_list_view(request):
    queryset = container_list(tenant=request.tenant)
    if not request.GET.getlist("status"):
        queryset = queryset.present()
    filterset = ContainerFilterSet(request.GET, queryset=queryset, tenant=request.tenant)
    page = paginate(request, filterset.qs.distinct())
    context = {
        "filterset": filterset,
        "page": page,
        "sort": filterset.sort_columns(),
        "statuses": Container.Status.choices,
        "selected_statuses": request.GET.getlist("status"),
        "exited_count": container_exited_count(tenant=request.tenant),
    }
    return render_live(
        request,
        page_template="networks/container_list.html",
        part_template="networks/_container_results.html",
        context=context,
        target="results",
        busy=work_in_progress(page),
    )


IMAGES_WORKER_TIMEOUT_SECONDS = 3


@tenant_required
@require_GET
def container_images_view(request):
    """The run form's image picker: the images the team's clusters have, asked of a worker after the page."""
    images = set(container_image_list(tenant=request.tenant))
    error = ""
    for cluster in cluster_list(tenant=request.tenant):
        try:
            images.update(cluster_images(cluster=cluster, timeout=IMAGES_WORKER_TIMEOUT_SECONDS))
        except USER_ERRORS as refusal:
            error = refusal.message
    return render(request, "networks/_image_choices.html", {"images": sorted(images), "error": error})


@tenant_required
def container_run_view(request):
    require_change(request)
    data, focus = request.POST or None, ""
    step = network_picker_step(request.POST) if request.method == "POST" else None
    if step is not None:  # a network added or removed without JavaScript: the form again, unchecked
        data, focus = step
    # `?network=ID`: the form opens with that network picked (a link from the network's page).
    initial = {"networks": request.GET.getlist("network")} if data is None else None
    form = ContainerRunForm(data, tenant=request.tenant, initial=initial)
    environment = EnvironmentFormSet(data, prefix="env")
    status, environment_error = 200, ""
    if step is not None:
        shown_unchecked(form, environment)
    elif request.method == "POST":
        operation, status = submit(
            form,
            lambda data: container_run(
                actor=Actor.of(request),
                tenant=request.tenant,
                cluster=data["cluster"],
                name=data["name"],
                image=data["image"],
                command=data["command"],
                networks=form.network_specs(),
                environment=environment.cleaned_data,  # every row, so that a refusal's item is its row
                ports=data["ports"],
                publish_all=data["publish_all"],
                restart_policy=data["restart_policy"],
                node=data["node_object"],
            ),
            valid=environment.is_valid(),
        )
        if operation is not None:
            messages.success(request, f"Starting {operation.target} on {operation.params['node']}.")
            return redirect("networks:container_detail", pk=operation.container_id)
        environment_error = environment_refusal_shown(form, environment)
        form.network_refusal_shown()
    context = {
        "form": form,
        "focus": focus,
        "picker": {"choice": PICKER_CHOICE, "add": PICKER_ADD, "remove": PICKER_REMOVE},
        "environment": environment,
        "environment_error": environment_error,
        "environment_open": bool(environment_error) or environment_in_use(environment),
        "known_images": container_image_list(tenant=request.tenant),
        "has_clusters": form.fields["cluster"].queryset.exists(),
        "publishing_allowed": request.tenant.allow_published_ports,
    }
    return render(request, "networks/container_run.html", context, status=status)


def _unfinished(container: Container):
    return container.operations.unfinished().order_by("created")


def _settled(container: Container, unfinished) -> bool:
    return container.status not in (Container.Status.CREATING, Container.Status.REMOVING) and not unfinished


def _failure(container: Container) -> Operation | None:
    """The operation whose failure left the container failed (its error is the sentence to show first)."""
    if container.status != Container.Status.FAILED:
        return None
    return container.operations.filter(status=Operation.Status.FAILED).first()


def _version(container: Container, unfinished, failure: Operation | None) -> str:
    return watch_version(container, [(op.pk, op.last_message) for op in unfinished], failure and failure.pk)


def _port_answer(container: Container, port: str) -> dict:
    """`docker port CONTAINER [PORT]`: the command as typed, and its lines or Docker's error sentence."""
    port = (port or "").strip()
    command = f"docker port {container.name}" + (f" {port}" if port else "")
    try:
        return {"command": command, "lines": container_port_query(container=container, port=port), "error": ""}
    except USER_ERRORS as error:
        return {"command": command, "lines": [], "error": error.message}


def _detail_context(request, container: Container, **extra) -> dict:
    unfinished = list(_unfinished(container))
    failure = _failure(container)
    port_form = PortQueryForm(request.GET if "port" in request.GET else None)
    port = port_form.cleaned_data["port"] if port_form.is_bound and port_form.is_valid() else ""
    return {
        "container": container,
        "failure": failure,
        "endpoints": container.endpoints.select_related("network").order_by("network__name"),
        "environment": masked_environment(container),
        "unfinished": unfinished,
        "settled": _settled(container, unfinished),
        "version": _version(container, unfinished, failure),
        "actions": [] if container.is_system else ACTIONS_BY_STATUS.get(container.status, []),
        "operations": container.operations.select_related("requested_by", "network")[:10],
        "port_form": port_form,
        "port_answer": _port_answer(container, port),
        "diagnose_form": extra.pop("diagnose_form", None) or DiagnoseForm(),
        "can_diagnose": container.status == Container.Status.RUNNING and not container.is_system,
        "log_tails": LOG_TAILS,
        "log_query": LogQuery(),
        "default_tail": DEFAULT_TAIL,
        **extra,
    }


@tenant_required
@require_GET
def container_detail_view(request, pk: int):
    container = container_get(tenant=request.tenant, pk=pk)
    context = _detail_context(request, container)
    if wants_fragment(request, "port-answer"):
        return render(request, "networks/_port_answer.html", context)
    return render(request, "networks/container_detail.html", context)


@tenant_required
@require_GET
def container_status_view(request, pk: int):
    """The long-polled status line of the detail page (see network_status_view)."""
    container = container_get(tenant=request.tenant, pk=pk)

    def current() -> dict:
        container.refresh_from_db()
        unfinished = list(_unfinished(container))
        failure = _failure(container)
        return {
            "container": container,
            "unfinished": unfinished,
            "failure": failure,
            "settled": _settled(container, unfinished),
            "version": _version(container, unfinished, failure),
        }

    live = notices.page_waiter("container", container.pk)
    return render_status(
        request, "networks/_container_status.html", current, wait=live, settled_event="container-settled"
    )


@tenant_required
@require_POST
def container_action_view(request, pk: int, action: str):
    require_change(request)
    if action not in ACTIONS:
        raise Http404("No such action.")
    container = container_get(tenant=request.tenant, pk=pk)
    attempt(
        request,
        lambda: container_action_request(
            actor=Actor.of(request), tenant=request.tenant, container=container, action=action
        ),
        f"{action.capitalize()} requested for {container.name}.",
    )
    return redirect("networks:container_detail", pk=container.pk)


@tenant_required
@require_POST
def container_remove_exited_view(request):
    require_change(request)
    attempt(
        request,
        lambda: container_remove_exited(actor=Actor.of(request), tenant=request.tenant),
        lambda operations: f"Removing {len(operations)} exited container(s): {', '.join(op.target for op in operations)}."
        if operations
        else "No exited containers to remove.",
    )
    return redirect("networks:container_list")


@tenant_required
@require_POST
def container_diagnose_view(request, pk: int):
    """DNS (and TCP) checks run inside the container by a worker, shown with the exact commands."""
    require_change(request)
    container = container_get(tenant=request.tenant, pk=pk)
    form = DiagnoseForm(request.POST)
    result, error, status = None, "", 400
    if form.is_valid():
        try:
            result = container_diagnose(
                tenant=request.tenant,
                container=container,
                target=form.cleaned_data["target"],
                port=form.cleaned_data["port"],
            )
            status = 200
        except USER_ERRORS as refusal:
            refuse(form, refusal)
            status = http_status_of(refusal)
        except Exception as failure:  # the worker's answer may be any error, or none at all: say so
            error, status = worker_failure_sentence(failure), 502
    context = _detail_context(request, container, diagnose_form=form, diagnosis=result, diagnosis_error=error)
    if request.htmx:
        # The fragment replaces the form and its answer; htmx swaps refusals too (see base.html).
        return render(request, "networks/_diagnose.html", context, status=status)
    return render(request, "networks/container_detail.html", context, status=status)


LOG_TAILS = (50, 200, 1000, 5000)
# How long the page waits for a worker's answer (each ask of a follow poll too) before it says so.
LOGS_WORKER_TIMEOUT_SECONDS = 5


@tenant_required
@require_GET
def container_logs_view(request, pk: int):
    """The Logs section's lines (a worker reads them): the part htmx swaps in, the page without JavaScript,
    a follow request's new lines (a long poll), or the lines as a text file (?download=1)."""
    container = container_get(tenant=request.tenant, pk=pk)
    poll = wants_fragment(request, "log-lines")  # a follow poll: only the new lines, held until they come
    query, answer, error, status = LogQuery(), None, "", 200
    try:
        query = parse_log_query(request.GET)
        asked = query if poll else replace(query, follow=False)  # the first answer comes at once
        answer = worker_answer(
            lambda: container_logs(
                tenant=request.tenant, container=container, query=asked, timeout=LOGS_WORKER_TIMEOUT_SECONDS
            )
        )
    except USER_ERRORS as refusal:
        error, status = refusal.message, http_status_of(refusal)
    if answer is not None and request.GET.get("download"):
        response = HttpResponse(logs_as_text(answer), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{container.name}.log"'
        return response
    context = {"container": container, "query": query, "answer": answer, "logs_error": error, "tails": LOG_TAILS}
    # A worker that did not answer is a sentence on the page (htmx swaps 2xx-4xx only), not a 503.
    status = 200 if status >= 500 else status
    if request.htmx:
        template = "networks/_log_follow.html" if poll else "networks/_logs.html"
        return render(request, template, context, status=200 if poll else status)
    return render(request, "networks/container_logs.html", context, status=status)
