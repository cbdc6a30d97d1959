from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from networks.engine import EngineError
from networks.services.clusters import (
    ClusterDescriptionError,
    cluster_description_load,
    cluster_refresh_health,
    cluster_register,
)
from networks.services.reconcile import cluster_reconcile_now
from plumbing.errors import ServiceError
from portal.audit import audit_record
from portal.models import Tenant


class Command(BaseCommand):
    help = "Register a cluster description (the local cluster's by default) for a tenant."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tenant",
            default="demo",
            help="Slug of the first tenant to use the cluster (grant others with cluster_grant).",
        )
        parser.add_argument("--file", default=settings.CLUSTER_DESCRIPTION_FILE, help="Cluster description JSON.")
        parser.add_argument("--name", default=None, help="Name in the portal (defaults to the description's).")

    def handle(self, *args, tenant, file, name, **options):
        try:
            owner = Tenant.objects.get(slug=tenant)
        except Tenant.DoesNotExist:
            raise CommandError(
                f'No tenant "{tenant}". Create it in the admin, or run `manage.py demo_setup`.'
            ) from None
        try:
            cluster = cluster_register(tenant=owner, description=cluster_description_load(file), name=name)
        except (ClusterDescriptionError, EngineError) as exc:
            raise CommandError(str(exc)) from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        audit_record(action="cluster.register", obj=cluster, tenant=owner, details={"file": str(file)})
        nodes = ", ".join(f"{n.name} {n.address}" for n in cluster.nodes.all())
        self.stdout.write(self.style.SUCCESS(f"Cluster {cluster} registered: {nodes}"))
        try:
            changes = cluster_reconcile_now(cluster=cluster)
        except EngineError as exc:
            raise CommandError(f"Registered, but the cluster could not be read: {exc}") from exc
        for change in changes:
            self.stdout.write(f"  {change}")
        health = cluster_refresh_health(cluster=cluster)
        self.stdout.write(
            f"  {health['nodes_ready']}/{health['nodes_total']} nodes ready; "
            f"Consul {'has a leader' if health['consul_leader'] else 'has NO leader'}, "
            f"{len(health['consul_alive'])} agent(s) alive."
        )
