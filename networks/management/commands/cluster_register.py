import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from networks.bundles import bundle_read
from networks.engine import EngineError
from networks.services.clusters.health import cluster_refresh_health
from networks.services.clusters.registration import cluster_register
from networks.services.reconcile import cluster_reconcile_now
from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import Tenant


class Command(BaseCommand):
    help = (
        "Register a cluster from its Carina-style credentials bundle (a zip with docker.env, ca.pem, cert.pem and "
        "key.pem) for a tenant; the local cluster's bundle by default. The same swarm again rotates its credentials."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tenant",
            default="demo",
            help="Slug of the first tenant to use the cluster (grant others with cluster_grant).",
        )
        parser.add_argument(
            "--bundle", default=None, help="The credentials bundle (zip). Default: the local cluster's."
        )
        parser.add_argument("--name", default=None, help="Name in the portal (default: local, or the zip's name).")
        parser.add_argument("--registry", default=None, help="The cluster's image registry, host:port.")
        parser.add_argument(
            "--consul-token-file", default=None, help="A file holding the Consul ACL token, when Consul has ACLs."
        )

    def handle(self, *args, tenant, bundle, name, registry, consul_token_file, **options):
        try:
            owner = Tenant.objects.get(slug=tenant)
        except Tenant.DoesNotExist:
            raise CommandError(
                f'No tenant "{tenant}". Create it in the admin, or run `manage.py demo_setup`.'
            ) from None
        local = self._local_cluster() if bundle is None else {}
        path = Path(bundle or local.get("bundle", ""))
        if not path.is_file():
            raise CommandError(
                f"No bundle at {path}. Pass --bundle FILE, or bring the local cluster up (cluster/cluster up)."
            )
        token = Path(consul_token_file).read_text().strip() if consul_token_file else ""
        name = name or local.get("name") or path.stem
        try:
            cluster = cluster_register(
                actor=Actor.command(),
                tenant=owner,
                bundle=bundle_read(path.read_bytes(), consul_token=token),
                name=name,
                registry=registry if registry is not None else local.get("registry", ""),
                bundle_name=path.name,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        nodes = ", ".join(f"{n.name} {n.address}" for n in cluster.nodes.all())
        self.stdout.write(
            self.style.SUCCESS(f"Cluster {cluster} registered over TLS ({cluster.docker_endpoint}): {nodes}")
        )
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

    def _local_cluster(self) -> dict:
        path = Path(settings.CLUSTER_DESCRIPTION_FILE)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            raise CommandError(
                f"No local cluster description at {path}: bring the local cluster up with `cluster/cluster up`, "
                "or pass a real cluster's bundle with --bundle."
            ) from None
