"""Forms of the network pages: create a network, connect a container to it, share it with a team, remove it."""

from __future__ import annotations

from django import forms

from networks import ipam
from networks.models import Container, Network
from networks.selectors.networks import network_share_candidates
from plumbing.forms import PortalForm

from .fields import ClusterChoiceField, TeamChoiceField, offer_clusters, split_list


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
        help_text="Letters and digits, with hyphens or underscores between them (no periods), such as my-network.",
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
    ip_range = forms.CharField(
        label="IP range",
        required=False,
        help_text="Containers get addresses from this part of the subnet only, such as 10.0.42.128/25. "
        "Needs a custom subnet; leave empty for all of it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "decimal"}),
    )
    aux_addresses = forms.CharField(
        label="Auxiliary addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Devices already on the subnet, one NAME=ADDRESS per line, such as router=10.0.42.2: never given "
        "to a container. Needs an IP range that leaves them out.",
    )
    mtu = forms.IntegerField(
        label="MTU",
        required=False,
        help_text="The underlay's MTU, as Docker's com.docker.network.driver.mtu; containers get 50 bytes less. "
        "Leave empty for Docker's default (1500).",
        error_messages={"invalid": "MTU is a whole number of bytes, such as 1450; leave it empty for 1500."},
    )
    # Ticked means `docker network create` without --attachable; a form sent without it (a checkbox left
    # out) stays attachable, the portal's default, since the portal runs standalone containers.
    services_only = forms.BooleanField(
        required=False,
        label="Swarm services only",
        help_text="Not attachable: standalone containers cannot be run on it or connected to it.",
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        first = offer_clusters(self, tenant).first()
        if first is not None:
            self.fields["prefixlen"].initial = first.default_prefixlen

    # Docker's rarer options, drawn folded unless one of them holds a value or an error.
    DOCKER_OPTIONS = ("gateway", "ip_range", "aux_addresses", "mtu", "services_only")

    @property
    def docker_options_open(self) -> bool:
        return self.is_bound and any(self[name].value() or name in self.errors for name in self.DOCKER_OPTIONS)

    def clean_aux_addresses(self) -> list[tuple[str, str]]:
        """NAME=ADDRESS lines as pairs, in order: the service refuses a name given twice."""
        pairs = []
        for number, line in enumerate(self.cleaned_data["aux_addresses"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            name, sep, address = line.partition("=")
            if not sep:
                raise forms.ValidationError(f'Line {number}, "{line}", is not NAME=ADDRESS, such as router=10.0.42.2.')
            pairs.append((name.strip(), address.strip()))
        return pairs

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
        return split_list(self.cleaned_data["aliases"])


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


class NetworkRemoveForm(PortalForm):
    disconnect = forms.BooleanField(
        required=False, label="Disconnect the attached containers first", help_text="Otherwise removal is refused."
    )


class NetworkDescribeForm(PortalForm):
    """The portal's own details of a network: never sent to Docker, changed at any time."""

    class Meta:
        model = Network

    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the network is for, for your team and the admins.",
    )
    tags = forms.CharField(
        required=False,
        help_text="Words to file it under, separated by commas, such as pci, staging. The networks list filters by them.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    @classmethod
    def of(cls, network: Network) -> NetworkDescribeForm:
        tags = ", ".join(network.tags.values_list("name", flat=True))
        return cls(initial={"description": network.description, "tags": tags})

    def clean_tags(self) -> list[str]:
        return split_list(self.cleaned_data["tags"])
