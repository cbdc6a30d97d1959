"""Unused networks in the REST mirror: the preview of what a removal would take, the body that removes
a chosen set, and what it did."""

from __future__ import annotations

import datetime

from rest_framework import serializers

from plumbing.api.fields import Id, Integer, StrictSerializer


class UnusedNetworkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    cluster_name = serializers.CharField(source="cluster.name")
    subnet = serializers.CharField()
    unused_since = serializers.DateTimeField(
        source="idle_since", default_timezone=datetime.UTC, help_text="When its last container left, or it was made."
    )


class UnusedRemoveSerializer(StrictSerializer):
    networks = serializers.ListField(child=Id(), help_text="Ids from the preview (GET networks/unused/).")
    days = Integer(
        required=False, help_text="Still unused for this many days when removed; default UNUSED_NETWORK_DAYS (30)."
    )


class RemovedNetworkSerializer(serializers.Serializer):
    network = serializers.IntegerField()
    name = serializers.CharField()
    operation = serializers.IntegerField(help_text="The removal's operation, one per network.")


class KeptNetworkSerializer(serializers.Serializer):
    network = serializers.IntegerField()
    name = serializers.CharField(help_text="Empty for an id that is not one of the team's networks.")
    reason = serializers.CharField()


class UnusedRemovalSerializer(serializers.Serializer):
    removed = RemovedNetworkSerializer(many=True)
    kept = KeptNetworkSerializer(many=True)
