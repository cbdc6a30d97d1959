"""Forms of the portal's pages. They parse what people type; services decide whether it may happen."""

from __future__ import annotations

import shlex

from django import forms

from networks import ipam
from networks.bundles import BundleError, bundle_given
from networks.models import Cluster, Container, Network, RegistryLogin
from networks.selectors import cluster_list, network_list, network_share_candidates
from networks.services.containers.specs import RESTART_POLICIES
from networks.services.registries import REGISTRY_PASSWORD_MAX_LENGTH
from plumbing.forms import PortalForm, refuse
from plumbing.inputs import parse_id
from portal.selectors import tenant_list


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Ticked objects by id; a value no id can be (2**64, "²") is refused before the database sees it."""

    def _check_values(self, value):
        for pk in value if isinstance(value, (list, tuple)) else [value]:
            if parse_id(str(pk)) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class ClusterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, cluster) -> str:
        return cluster.name


def _offer_clusters(form: forms.Form, tenant):
    """The tenant's clusters in the form's cluster field, the first one picked; returns them."""
    clusters = cluster_list(tenant=tenant)
    form.fields["cluster"].queryset = clusters
    first = clusters.first()
    if first is not None:
        form.fields["cluster"].initial = first.pk
    return clusters


def _prefix_choices() -> list[tuple[int, str]]:
    return [
        (length, f"/{length} — {2 ** (32 - length) - 2:,} addresses")
        for length in range(ipam.MIN_PREFIXLEN, ipam.MAX_PREFIXLEN + 1)
    ]


class NetworkCreateForm(PortalForm):
    class Meta:
        model = Network  # its columns bound the text fields of the same name

    cluster = ClusterChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(
        help_text="Letters, digits, underscores, periods or hyphens, such as mynetwork.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    prefixlen = forms.TypedChoiceField(
        label="Size",
        coerce=int,
        choices=_prefix_choices,
        help_text="/24, Docker's default, gives 254 addresses.",
        error_messages={
            "invalid_choice": f"Pick a size from /{ipam.MIN_PREFIXLEN} to /{ipam.MAX_PREFIXLEN}, such as /24.",
            "required": "Pick a size, such as /24.",
        },
    )
    subnet = forms.CharField(
        label="Custom subnet",
        required=False,
        help_text="Leave empty to get the next free block, or type one such as 10.0.42.0/24.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "decimal"}),
    )
    gateway = forms.CharField(
        required=False,
        help_text="Leave empty to use the subnet's first address, as Docker does.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "decimal"}),
    )
    internal = forms.BooleanField(required=False, help_text="No traffic to or from outside the network.")
    encrypted = forms.BooleanField(required=False, help_text="Encrypt traffic between nodes (IPsec).")
    labels = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="One KEY=VALUE per line, such as team=payments.",
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        first = _offer_clusters(self, tenant).first()
        if first is not None:
            self.fields["prefixlen"].initial = first.default_prefixlen

    def clean_labels(self) -> dict[str, str]:
        labels = {}
        for number, line in enumerate(self.cleaned_data["labels"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f'Line {number}, "{line}", is not KEY=VALUE, such as team=payments.')
            labels[key.strip()] = value.strip()
        return labels


class ConnectForm(PortalForm):
    container = forms.ModelChoiceField(queryset=Container.objects.none(), empty_label="Pick a container")
    aliases = forms.CharField(
        required=False,
        help_text="Other names the container answers to on this network, separated by commas.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    ip_address = forms.CharField(
        label="IPv4 address",
        required=False,
        help_text="Leave empty to let Docker pick one.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "decimal"}),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["container"].queryset = candidates

    def clean_aliases(self) -> list[str]:
        return split_words(self.cleaned_data["aliases"])


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, tenant) -> str:
        return tenant.name


class NetworkShareForm(PortalForm):
    tenant = TeamChoiceField(
        label="Share with",
        queryset=None,
        empty_label="Pick a team",
        help_text="Teams that also use this cluster. They can run and connect containers on the network; "
        "they cannot change or remove it.",
    )

    def __init__(self, *args, network, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = network_share_candidates(network=network)


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


class NetworkRemoveForm(PortalForm):
    disconnect = forms.BooleanField(
        required=False, label="Disconnect the attached containers first", help_text="Otherwise removal is refused."
    )


def split_words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


class EnvironmentRowForm(PortalForm):
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    value = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
    )
    secret = forms.BooleanField(required=False, help_text="Masked on every page; only the container sees it.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("value") and not cleaned.get("name"):
            self.add_error("name", "Name this variable, or clear its value.")
        return cleaned


EnvironmentFormSet = forms.formset_factory(EnvironmentRowForm, extra=2)


class ContainerRunForm(PortalForm):
    class Meta:
        model = Container

    cluster = ClusterChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(
        help_text="Other containers on its networks reach it by this name, such as db.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    image = forms.CharField(
        help_text="An image the cluster's nodes already have.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "list": "known-images"}),
    )
    command = forms.CharField(
        required=False,
        help_text="Optional, as on a shell: sh -c 'httpd -f -p 80'.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    networks = IdsChoiceField(
        queryset=Network.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        # The services' sentence for a network the team may not use (see network_not_usable).
        error_messages={"invalid_choice": 'No network "%(value)s" that your team can use on this cluster.'},
        help_text="The container joins every network ticked; it resolves the other containers there by name.",
    )
    ports = forms.CharField(
        required=False,
        label="Published ports",
        help_text="HOST:CONTAINER, such as 8080:80 or 53:53/udp, separated by commas. Leave empty to keep it private.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    publish_all = forms.BooleanField(required=False, label="Publish every port the image exposes (--publish-all)")
    restart_policy = forms.ChoiceField(choices=[(p, p) for p in RESTART_POLICIES], initial="no")
    node = forms.ChoiceField(label="Node", required=False)

    SPREAD = ""
    # The environment rows are a formset beside this form; the service's sentences about them go there.
    shown_elsewhere = ("environment",)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        clusters = _offer_clusters(self, tenant)
        self.fields["networks"].queryset = (
            network_list(tenant=tenant).filter(status=Network.Status.ACTIVE).order_by("name")
        )
        self.fields["node"].choices = [(self.SPREAD, "Spread: the node running the fewest containers")] + [
            (
                f"{cluster.pk}:{node.name}",
                f"{node.name} ({node.address})" + (f" on {cluster.name}" if len(clusters) > 1 else ""),
            )
            for cluster in clusters
            for node in cluster.nodes.all()
        ]
        # One alias field per network, drawn next to its checkbox.
        self.alias_fields = {}
        for network in self.fields["networks"].queryset:
            key = f"aliases_{network.pk}"
            self.fields[key] = forms.CharField(
                required=False,
                label=f"Aliases on {network.name}",
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "aliases"}),
            )
            self.alias_fields[network.pk] = key
        if not tenant.allow_published_ports:
            for name in ("ports", "publish_all"):
                self.fields[name].disabled = True

    def network_rows(self):
        """(checkbox, aliases field) pairs, for the template."""
        boxes = {str(box.data["value"]): box for box in self["networks"]}
        return [(boxes[str(pk)], self[key]) for pk, key in self.alias_fields.items() if str(pk) in boxes]

    def clean_command(self) -> list[str]:
        try:
            return shlex.split(self.cleaned_data["command"])
        except ValueError as exc:
            raise forms.ValidationError(f"The command has unbalanced quotes ({exc}).") from None

    def clean_ports(self) -> list[str]:
        return split_words(self.cleaned_data["ports"] or "")

    def clean(self):
        cleaned = super().clean()
        cluster, choice = cleaned.get("cluster"), cleaned.get("node")
        cleaned["node_object"] = None
        if cluster is not None and choice:
            cluster_id, _, name = choice.partition(":")
            node = cluster.nodes.filter(name=name).first() if str(cluster.pk) == cluster_id else None
            if node is None:
                self.add_error("node", f"That node is not in cluster {cluster.name}; pick one of its nodes or spread.")
            cleaned["node_object"] = node
        return cleaned

    def network_specs(self) -> list[dict]:
        return [
            {"network": network, "aliases": split_words(self.cleaned_data.get(self.alias_fields[network.pk]) or "")}
            for network in self.cleaned_data["networks"]
        ]


class PortQueryForm(PortalForm):
    port = forms.CharField(
        required=False,
        max_length=16,
        help_text="Such as 80 or 53/udp; leave empty for every published port.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )


class DiagnoseForm(PortalForm):
    """Shown on the container page beside the port query: its ids must not clash with that form's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "diagnose-%s")
        super().__init__(*args, **kwargs)

    target = forms.CharField(
        max_length=253,
        label="Name to look up",
        help_text="A container name or alias on one of this container's networks, such as db.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        label="TCP port (optional)",
        help_text="Also check that this port answers, such as 3306.",
    )


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
