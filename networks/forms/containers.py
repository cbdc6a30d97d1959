"""Forms of the container pages: run a container (with its environment rows), ask for its published
ports, diagnose a name from it."""

from __future__ import annotations

import shlex

from django import forms
from django.http import QueryDict

from networks.models import Container, Network
from networks.selectors.networks import network_attachable_list
from networks.services.containers.specs import RESTART_POLICIES
from plumbing.forms import PortalForm
from plumbing.inputs import parse_id
from plumbing.sorting import natural

from .fields import ClusterChoiceField, IdsChoiceField, offer_clusters, split_list, split_words


class EnvironmentRowForm(PortalForm):
    name = forms.CharField(
        required=False,
        label="Variable name",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    value = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
    )
    secret = forms.BooleanField(required=False, help_text="Masked on every page; only the container sees it.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("value") and not cleaned.get("name"):
            self.add_error("name", "Name this variable, or clear its value.")
        return cleaned


EnvironmentFormSet = forms.formset_factory(EnvironmentRowForm, extra=1)


def environment_refusal_shown(form: PortalForm, environment: forms.BaseFormSet) -> str:
    """Put the service's refusal of one environment variable on its row's name, where it is marked invalid
    and linked from the error summary; returns the sentence of a refusal about no one row, to show by the rows.

    The rows go to the service as they are in the formset (it skips the empty ones), so its `item` is the row.
    """
    refusal = form.refused_elsewhere.get("environment")
    if refusal is None:
        return ""
    item = getattr(refusal, "item", None)
    if item is None or not 0 <= item < len(environment.forms):
        return refusal.message
    environment.forms[item].add_error("name", refusal.message)
    del form.errors["environment"]
    return ""


def environment_in_use(environment: forms.BaseFormSet) -> bool:
    """Whether the run form's variables were typed or refused: their section is drawn open then."""
    if not environment.is_bound:
        return False
    typed = any(row.data.get(row.add_prefix(name)) for row in environment.forms for name in ("name", "value"))
    return typed or any(environment.errors) or bool(environment.non_form_errors())


class ContainerRunForm(PortalForm):
    """The run form. Its networks are the ones picked (`networks`, in the order picked), each with its own
    aliases and static address (`aliases_<id>`, `ipv4_address_<id>`): the API's `networks` items, one row
    per network picked, so the form stays short however many networks the team has (`network_picker_step`
    is the picker without JavaScript; static/portal/network-picker.js the picker with it)."""

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
    # Drawn by the template as the picker (its search box has this field's id) and one row per network picked.
    networks = IdsChoiceField(
        queryset=Network.objects.none(),
        required=False,
        widget=forms.SelectMultiple,
        # The services' sentence for a network the team may not use (see network_not_usable).
        error_messages={"invalid_choice": 'No network "%(value)s" that your team can use on this cluster.'},
        help_text="It reaches the containers there by name. Separate aliases with commas; leave the address empty for any.",
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
    # The environment rows are a formset beside this form, and an alias or an address is a picked network's
    # row: the service's sentences about them go there (environment_refusal_shown, network_refusal_shown).
    shown_elsewhere = ("environment", "aliases", "ip_address")

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        clusters = offer_clusters(self, tenant)
        # A team on one cluster has nothing to choose: it is named, not offered (one control fewer to cross).
        self.only_cluster = clusters[0] if len(clusters) == 1 else None
        if self.only_cluster is not None:
            self.fields["cluster"].widget = forms.HiddenInput()
        offered = network_attachable_list(tenant=tenant).order_by(natural("name"), "pk")
        self.fields["networks"].queryset = offered
        self.fields["node"].choices = [(self.SPREAD, "Spread: the node running the fewest containers")] + [
            (
                f"{cluster.pk}:{node.name}",
                f"{node.name} ({node.address})" + (f" on {cluster.name}" if len(clusters) > 1 else ""),
            )
            for cluster in clusters
            for node in cluster.nodes.all()
        ]
        # One row per network picked, in the order picked (the first is joined at start), drawn by
        # templates/networks/_picked_network.html (which the picker's script copies too).
        # A network chosen in the picker's list without JavaScript but not added yet is picked too.
        posted = self.data.getlist("networks") if hasattr(self.data, "getlist") else self.data.get("networks", [])
        if not self.is_bound:  # a link's `?network=` (a network's page: run a container on it)
            posted = [str(pk) for pk in self.initial.get("networks", [])]
        self.picked = picked_networks(offered, [*posted, self.data.get(PICKER_CHOICE, "")])
        if not self.is_bound and self.picked:
            self.initial.setdefault("cluster", self.picked[0].cluster_id)
        self.picked_ids = {network.pk for network in self.picked}
        for network in self.picked:
            self.fields[f"aliases_{network.pk}"] = forms.CharField(
                required=False,
                label=f"Aliases on {network.name}",
            )
            self.fields[f"ipv4_address_{network.pk}"] = forms.CharField(
                required=False,
                label=f"Static IPv4 address on {network.name}",
            )
        if not tenant.allow_published_ports:
            for name in ("ports", "publish_all"):
                self.fields[name].disabled = True

    def network_rows(self) -> list[tuple[Network, forms.BoundField, forms.BoundField]]:
        """(network, aliases field, address field) of each network picked, for the template."""
        return [(n, self[f"aliases_{n.pk}"], self[f"ipv4_address_{n.pk}"]) for n in self.picked]

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
        """The API's `networks` items: each network picked with its aliases and static address."""
        return [
            {
                "network": network,
                "aliases": split_list(self.cleaned_data.get(f"aliases_{network.pk}") or ""),
                "ipv4_address": (self.cleaned_data.get(f"ipv4_address_{network.pk}") or "").strip(),
            }
            for network in self.picked
        ]

    def network_refusal_shown(self) -> None:
        """Put the service's refusal of an alias or an address on the row of the network it is about (its
        `item` is that network's place in `network_specs`), where it is marked invalid and linked from the
        error summary."""
        for about, prefix in (("aliases", "aliases_"), ("ip_address", "ipv4_address_")):
            refusal = self.refused_elsewhere.get(about)
            item = getattr(refusal, "item", None)
            if refusal is None or item is None or not 0 <= item < len(self.picked):
                continue
            del self.errors[about]
            self.add_error(f"{prefix}{self.picked[item].pk}", refusal.message)


def picked_networks(offered, ids: list[str]) -> list[Network]:
    """The networks of `offered` whose ids were posted, in the order posted, each once; an id that is no
    such network is left to the `networks` field, which refuses it."""
    wanted = list(dict.fromkeys(pk for pk in map(parse_id, ids) if pk is not None))
    found = offered.in_bulk(wanted)
    return [found[pk] for pk in wanted if pk in found]


# The picker's own controls without JavaScript: a list of the networks to add from, its button, each row's.
PICKER_CHOICE, PICKER_ADD, PICKER_REMOVE = "picker_network", "picker_add", "picker_remove"


def network_picker_step(data) -> tuple[QueryDict, str] | None:
    """A press of the picker's own buttons without JavaScript (Add network, a row's Remove): the posted form
    with that network added or removed, to draw again unchecked, and the id of the field to focus there;
    None when the form was submitted."""
    if PICKER_ADD in data:
        pk = data.get(PICKER_CHOICE, "")
        changed = data.copy()
        if pk and pk not in data.getlist("networks"):
            changed.appendlist("networks", pk)
        return changed, f"id_aliases_{pk}" if pk else "id_networks"
    if PICKER_REMOVE in data:
        changed = data.copy()
        changed.setlist("networks", [pk for pk in data.getlist("networks") if pk != data[PICKER_REMOVE]])
        return changed, "id_networks"
    return None


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
