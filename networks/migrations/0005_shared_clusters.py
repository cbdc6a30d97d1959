"""One cluster per swarm, used by the tenants granted it (issue: several teams on one swarm).

Each existing cluster's owner becomes its first grant; networks found outside the portal stop
belonging to a tenant. Two clusters that point at one swarm cannot be told apart here (the swarm
ID is read from the cluster, which a migration must not call): `manage.py cluster_merge` reads
the IDs and merges them, saying what it merged.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def grant_owners(apps, schema_editor):
    Cluster = apps.get_model("networks", "Cluster")
    ClusterGrant = apps.get_model("networks", "ClusterGrant")
    Network = apps.get_model("networks", "Network")
    seen = set()
    for cluster in Cluster.objects.select_related("tenant").order_by("pk"):
        ClusterGrant.objects.get_or_create(cluster=cluster, tenant=cluster.tenant)
        if cluster.name in seen:  # names were unique per tenant; now they are unique
            cluster.name = f"{cluster.name}-{cluster.tenant.slug}"[:63]
            cluster.save(update_fields=["name"])
        seen.add(cluster.name)
    Network.objects.filter(is_external=True).update(tenant=None)


def owners_back(apps, schema_editor):
    Cluster = apps.get_model("networks", "Cluster")
    Network = apps.get_model("networks", "Network")
    for cluster in Cluster.objects.all():
        grant = cluster.grants.order_by("pk").first()
        if grant is not None:
            cluster.tenant_id = grant.tenant_id
            cluster.save(update_fields=["tenant"])
            Network.objects.filter(cluster=cluster, tenant__isnull=True).update(tenant_id=grant.tenant_id)


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0004_container_published_ports"),
        ("portal", "0002_api_tokens_idempotency"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ClusterGrant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "max_networks",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Most live networks the tenant may have on the cluster; empty for no limit.",
                        null=True,
                    ),
                ),
                (
                    "max_containers",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Most live containers the tenant may have on the cluster; empty for no limit.",
                        null=True,
                    ),
                ),
                (
                    "max_published_ports",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Most ports the tenant's containers may publish on the cluster; empty for no limit.",
                        null=True,
                    ),
                ),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "cluster",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="grants", to="networks.cluster"
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="cluster_grants", to="portal.tenant"
                    ),
                ),
            ],
            options={
                "verbose_name": "cluster grant",
                "verbose_name_plural": "cluster grants",
                "ordering": ["cluster", "tenant__name"],
                "constraints": [
                    models.UniqueConstraint(fields=("cluster", "tenant"), name="clustergrant_unique_cluster_tenant")
                ],
            },
        ),
        migrations.CreateModel(
            name="NetworkShare",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "network",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="shares", to="networks.network"
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="network_shares", to="portal.tenant"
                    ),
                ),
            ],
            options={
                "verbose_name": "network share",
                "verbose_name_plural": "network shares",
                "ordering": ["network", "tenant__name"],
                "constraints": [
                    models.UniqueConstraint(fields=("network", "tenant"), name="networkshare_unique_network_tenant")
                ],
            },
        ),
        migrations.AddField(
            model_name="cluster",
            name="swarm_id",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The swarm's own ID (docker info: Swarm.Cluster.ID), read from the cluster when it is registered.",
                max_length=64,
                verbose_name="swarm ID",
            ),
        ),
        migrations.AlterField(
            model_name="cluster",
            name="name",
            field=models.SlugField(help_text="What the portal calls the cluster, such as local or prod.", max_length=63),
        ),
        migrations.AlterField(
            model_name="network",
            name="tenant",
            field=models.ForeignKey(
                blank=True,
                help_text="The team that made it; empty for a network made outside the portal (staff see those by name).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="networks",
                to="portal.tenant",
            ),
        ),
        migrations.AlterField(
            model_name="operation",
            name="tenant",
            field=models.ForeignKey(
                blank=True,
                help_text="The team that asked; empty for the cluster's own upkeep (reconcile by an admin or on schedule).",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="operations",
                to="portal.tenant",
            ),
        ),
        migrations.RunPython(grant_owners, owners_back),
        migrations.AlterModelOptions(
            name="cluster",
            options={"ordering": ["name"], "verbose_name": "cluster", "verbose_name_plural": "clusters"},
        ),
        migrations.RemoveConstraint(model_name="cluster", name="cluster_unique_tenant_name"),
        migrations.RemoveField(model_name="cluster", name="tenant"),
        migrations.AddConstraint(
            model_name="cluster",
            constraint=models.UniqueConstraint(fields=("name",), name="cluster_unique_name"),
        ),
        migrations.AddConstraint(
            model_name="cluster",
            constraint=models.UniqueConstraint(
                condition=models.Q(("swarm_id", ""), _negated=True), fields=("swarm_id",), name="cluster_unique_swarm_id"
            ),
        ),
        migrations.AddConstraint(
            model_name="network",
            constraint=models.CheckConstraint(
                condition=models.Q(("is_external", True), ("tenant__isnull", False), _connector="OR"),
                name="network_tenant_unless_external",
            ),
        ),
    ]
