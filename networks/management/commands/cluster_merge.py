from django.core.management.base import BaseCommand

from networks.services.clusters.merge import cluster_merge_swarms
from portal.actors import Actor


class Command(BaseCommand):
    help = (
        "Record every cluster's swarm ID and merge clusters registered twice for one swarm (one swarm, one "
        "cluster); says what it merged."
    )

    def handle(self, *args, **options):
        said = cluster_merge_swarms(actor=Actor.command())
        for line in said or ["Every cluster is a swarm of its own; nothing to merge."]:
            self.stdout.write(line)
