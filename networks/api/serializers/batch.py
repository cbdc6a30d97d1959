"""A batch of network creates in the REST mirror: per network of the batch, in its order, the operation
that makes it (as `POST /api/v1/networks/` answers) or the refusal that kept it from being made."""

from __future__ import annotations

from rest_framework import serializers

from plumbing.api.errors import ErrorDetailSerializer

from .operations import OperationSerializer


class NetworkBatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The network's place in the list sent, from 0.")
    name = serializers.CharField(help_text='Its name as sent ("" when it was not text).')
    operation = OperationSerializer(allow_null=True, help_text="The operation that makes it; null when refused.")
    error = ErrorDetailSerializer(
        allow_null=True,
        help_text="Why it was not made, in the API's error shape (code, message, field); null when it is made.",
    )


class NetworkBatchSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many networks the batch sent.")
    made = serializers.IntegerField(help_text="How many are being made (each has its operation).")
    refused = serializers.IntegerField(help_text="How many were refused (each has its error); the others are made.")
    results = NetworkBatchResultSerializer(many=True)
