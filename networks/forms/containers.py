"""Forms of the container pages: run a container (with its environment rows), ask for its published
ports, diagnose a name from it."""

from __future__ import annotations

import shlex

from django import forms

from networks.models import Container, Network
from networks.selectors.networks import network_attachable_list
from networks.services.containers.specs import RESTART_POLICIES
from plumbing.forms import PortalForm

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


EnvironmentFormSet = forms.formset_factory(EnvironmentRowForm, extra=2)


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
        clusters = offer_clusters(self, tenant)
        self.fields["networks"].queryset = network_attachable_list(tenant=tenant).order_by("name")
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
                widget=forms.TextInput(
                    attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "aliases, separated by commas"}
                ),
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
            {"network": network, "aliases": split_list(self.cleaned_data.get(self.alias_fields[network.pk]) or "")}
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
