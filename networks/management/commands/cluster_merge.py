from django.core.management.base import BaseCommand

from networks.services.clusters.merge import cluster_merge_swarms
from portal.audit import audit_record


class Command(BaseCommand):
    help = (
        "Record every cluster's swarm ID and merge clusters registered twice for one swarm (one swarm, one "
        "cluster); says what it merged."
    )

    def handle(self, *args, **options):
        said = cluster_merge_swarms()
        if said:
            audit_record(action="cluster.merge", details={"said": said})
        for line in said or ["Every cluster is a swarm of its own; nothing to merge."]:
            self.stdout.write(line)
