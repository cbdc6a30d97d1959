"""Fields and helpers that forms of several resources share: ticked ids, a cluster or a team to pick,
the tenant's clusters offered, words split at commas or spaces, and lists split at commas."""

from __future__ import annotations

from django import forms

from networks.selectors.clusters import cluster_list
from plumbing.inputs import parse_id


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


def offer_clusters(form: forms.Form, tenant):
    """The tenant's clusters in the form's cluster field, the first one picked; returns them."""
    clusters = cluster_list(tenant=tenant)
    form.fields["cluster"].queryset = clusters
    first = clusters.first()
    if first is not None:
        form.fields["cluster"].initial = first.pk
    return clusters


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, tenant) -> str:
        return tenant.name


def split_words(text: str) -> list[str]:
    return [word for word in text.replace(",", " ").split() if word]


def split_list(text: str) -> list[str]:
    """Items separated by commas, each kept whole (a space inside one is the service's to refuse)."""
    return [item.strip() for item in text.split(",") if item.strip()]
