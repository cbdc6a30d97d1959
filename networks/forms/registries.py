"""The form of a team's login to a private registry, whose password never comes back into the page."""

from __future__ import annotations

from django import forms

from networks.models import RegistryLogin
from networks.services.registries import REGISTRY_PASSWORD_MAX_LENGTH
from plumbing.forms import PortalForm


class RegistryLoginForm(PortalForm):
    """A team's login to a private registry. The password is never put back into the page, not even
    when the form comes back with an error: it is typed again."""

    class Meta:
        model = RegistryLogin

    registry = forms.CharField(
        required=False,
        help_text="As images name it: host or host:port, such as registry.example.com or 192.168.250.1:5001.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    username = forms.CharField(
        required=False,
        label="User name",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    password = forms.CharField(
        required=False,
        strip=False,
        max_length=REGISTRY_PASSWORD_MAX_LENGTH,
        label="Password or token",
        help_text="Sealed as soon as it arrives and never shown again; only a worker opens it, for a pull.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
