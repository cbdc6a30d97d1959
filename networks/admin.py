from django.contrib import admin

from .models import Cluster, Node, ReservedRange


class NodeInline(admin.TabularInline):
    model = Node
    extra = 0


class ReservedRangeInline(admin.TabularInline):
    model = ReservedRange
    extra = 0


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "docker_endpoint", "consul_address", "address_pool", "default_prefixlen"]
    list_filter = ["tenant"]
    search_fields = ["name", "tenant__name", "docker_endpoint"]
    inlines = [NodeInline, ReservedRangeInline]


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["name", "cluster", "address", "role", "state", "last_seen"]
    list_filter = ["role", "state", "cluster"]
    search_fields = ["name", "address", "cluster__name"]


@admin.register(ReservedRange)
class ReservedRangeAdmin(admin.ModelAdmin):
    list_display = ["cidr", "description", "is_servicenet", "cluster"]
    list_filter = ["is_servicenet", "cluster"]
    search_fields = ["cidr", "description"]
