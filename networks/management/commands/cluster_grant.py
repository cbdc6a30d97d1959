from django.core.management.base import BaseCommand, CommandError

from networks.models import Cluster
from networks.services.grants import cluster_grant, cluster_grant_revoke, grant_usage
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import Tenant

UNSET = object()  # a limit not given on the command line is left as it is


def limit(value: str) -> int | None:
    """A limit on the command line: a whole number, or "none" for no limit."""
    if value.lower() in ("none", ""):
        return None
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


class Command(BaseCommand):
    help = "Let a tenant use a cluster (a swarm several teams share), change its limits there, or revoke it."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True, help="The cluster's id or name.")
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--revoke", action="store_true", help="Take the cluster away (refused while in use).")
        for name in ("networks", "containers", "published-ports"):
            parser.add_argument(
                f"--max-{name}", type=limit, default=UNSET, help=f"Most {name.replace('-', ' ')}; none: no limit."
            )

    def handle(self, *args, cluster, tenant, revoke, **options):
        found = Cluster.objects.filter(pk=int(cluster)) if cluster.isdigit() else Cluster.objects.filter(name=cluster)
        target = found.first()
        if target is None:
            names = ", ".join(f"{c.pk} {c.name}" for c in Cluster.objects.all()) or "none yet"
            raise CommandError(f'No cluster "{cluster}". Clusters: {names}.')
        team = Tenant.objects.filter(slug=tenant).first()
        if team is None:
            raise CommandError(f'No tenant "{tenant}". Create it in the admin first.')
        try:
            if revoke:
                cluster_grant_revoke(actor=Actor.command(), cluster=target, tenant=team)
                self.stdout.write(self.style.SUCCESS(f"{team.name} no longer uses cluster {target.name}."))
                return
            limits = {
                field: options[field]
                for field in ("max_networks", "max_containers", "max_published_ports")
                if options[field] is not UNSET
            }
            grant, created = cluster_grant(actor=Actor.command(), cluster=target, tenant=team, **limits)
        except ServiceError as error:
            raise CommandError(error.message) from error
        usage = grant_usage(grant=grant)
        said = "now uses" if created else "uses"
        shown = "; ".join(
            f"{what} {used}/{'∞' if allowed is None else allowed}" for what, used, allowed in usage.rows()
        )
        self.stdout.write(self.style.SUCCESS(f"{team.name} {said} cluster {target.name} (id {target.pk}): {shown}."))
