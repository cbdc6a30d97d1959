"""Forms of a cluster's credentials: the Carina-style bundle or pasted PEMs, and registering a cluster
(in the admin and on the portal's page)."""

from __future__ import annotations

from django import forms

from networks.bundles import BundleError, bundle_given
from networks.models import Cluster
from plumbing.forms import PortalForm, refuse
from portal.selectors import tenant_list

from .fields import TeamChoiceField


class SecretTextarea(forms.Textarea):
    """A private key is never echoed back into the page: after a refusal the box is empty again."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


PEM_ATTRS = {"rows": 4, "spellcheck": "false", "autocomplete": "off", "class": "mono"}


class ClusterCredentialsForm(PortalForm):
    """A cluster's credentials: its Carina-style bundle uploaded, or the endpoint and the three PEMs pasted.

    `cleaned_data["credentials"]` is the checked Bundle; a refusal is shown on the field it is about.
    The key and the Consul token are never shown again, not even after a refusal.
    """

    class Meta:
        model = Cluster
        columns = {"docker_host": "docker_endpoint"}

    bundle = forms.FileField(
        required=False,
        label="Credentials bundle (zip)",
        help_text="The zip the cluster's provider gave you: docker.env, ca.pem, cert.pem and key.pem. "
        "Or leave it empty and paste the endpoint and the three PEMs below.",
    )
    docker_host = forms.CharField(
        required=False,
        label="Endpoint (DOCKER_HOST)",
        help_text="As in docker.env, such as tcp://192.168.250.11:2376.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    ca_pem = forms.CharField(required=False, label="ca.pem", widget=forms.Textarea(attrs=PEM_ATTRS))
    cert_pem = forms.CharField(required=False, label="cert.pem", widget=forms.Textarea(attrs=PEM_ATTRS))
    key_pem = forms.CharField(
        required=False,
        strip=False,
        label="key.pem",
        help_text="Kept sealed, never shown again (paste it again after a refusal).",
        widget=SecretTextarea(attrs=PEM_ATTRS),
    )
    consul_token = forms.CharField(
        required=False,
        label="Consul ACL token",
        help_text="Only when the cluster's Consul has ACLs. Kept sealed, never shown again.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        if any(name in self.errors for name in ("bundle", "docker_host", "ca_pem", "cert_pem", "key_pem")):
            return data
        try:
            data["credentials"] = bundle_given(
                upload=data.get("bundle"),
                docker_host=data.get("docker_host", ""),
                ca_pem=data.get("ca_pem", ""),
                cert_pem=data.get("cert_pem", ""),
                key_pem=data.get("key_pem", ""),
                consul_token=data.get("consul_token", ""),
            )
        except BundleError as error:
            refuse(self, error)
        return data


class ClusterRegisterForm(ClusterCredentialsForm):
    """Registering a cluster, in the admin and on the portal's page: its credentials, the team that uses it
    first, its name and its registry."""

    tenant = TeamChoiceField(
        label="First team",
        queryset=None,
        empty_label="Pick a team",
        help_text="The team that uses the cluster first; grant it to others later.",
    )
    name = forms.CharField(
        help_text="What the portal calls the cluster, such as prod or carina-east.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    registry = forms.CharField(
        required=False,
        help_text="The cluster's image registry as HOST:PORT, such as 192.168.250.1:5000; empty for none.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    field_order = [
        "bundle",
        "docker_host",
        "ca_pem",
        "cert_pem",
        "key_pem",
        "tenant",
        "name",
        "registry",
        "consul_token",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenant_list()
