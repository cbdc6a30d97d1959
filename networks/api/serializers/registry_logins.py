"""Registry logins in the REST mirror: the body that sets one (its password written, never read) and a
login as the team sees it."""

from __future__ import annotations

from rest_framework import serializers

from networks.models import RegistryLogin
from networks.services.registries import NAME_MAX_LENGTH, REGISTRY_PASSWORD_MAX_LENGTH
from plumbing.api.fields import StrictSerializer, Text


class RegistryLoginCreateSerializer(StrictSerializer):
    registry = Text(
        allow_blank=True,
        max_length=NAME_MAX_LENGTH,
        help_text="The registry's host[:port] as images name it, such as registry.example.com or 192.168.250.1:5001.",
    )
    username = Text(allow_blank=True, max_length=NAME_MAX_LENGTH)
    password = Text(
        allow_blank=True,
        write_only=True,
        max_length=REGISTRY_PASSWORD_MAX_LENGTH,
        help_text="The password or token; sealed at once and never shown again.",
    )


class RegistryLoginSerializer(serializers.ModelSerializer):
    """A login as the team sees it: never its password, sealed or not."""

    class Meta:
        model = RegistryLogin
        fields = ["id", "registry", "username", "created", "updated"]
