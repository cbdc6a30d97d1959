"""The dashboard: the team's clusters, networks, containers and operations at a glance."""

from django.views.decorators.http import require_GET

from networks.selectors.dashboard import dashboard_summary
from plumbing.live import render_live
from portal.tenancy import tenant_required


@tenant_required
@require_GET
def dashboard_view(request):
    """The dashboard: the tenant's clusters and their health, what runs, what is exposed, what changed."""
    summary = dashboard_summary(tenant=request.tenant)
    return render_live(
        request,
        page_template="networks/dashboard.html",
        part_template="networks/_dashboard.html",
        context=summary,
        busy=summary["operations_unfinished"] > 0,
    )
