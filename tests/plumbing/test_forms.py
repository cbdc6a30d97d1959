"""plumbing/forms.py: every form refuses text no column can hold, before any field is cleaned."""

import pytest
from django import forms

from networks.models import Container
from plumbing.forms import PortalForm
from portal.models import Tenant

pytestmark = pytest.mark.django_db

NUL = "This field contains a NUL character (\\x00), which the portal cannot store. Remove it."


class RunLike(PortalForm):
    class Meta:
        model = Container

    name = forms.CharField()
    image = forms.CharField(max_length=1000)  # wider than its column: the column wins
    command = forms.CharField(required=False)  # a JSON column: no length to take
    team = forms.ModelChoiceField(queryset=Tenant.objects.all(), to_field_name="slug", required=False)
    tags = forms.MultipleChoiceField(choices=[("a", "a")], required=False)


def test_text_fields_take_their_columns_length_and_say_it():
    form = RunLike({"name": "n" * 129, "image": "i" * 256, "command": "c" * 10_000})
    assert not form.is_valid()
    assert form.errors == {
        "name": ["This field takes at most 128 characters (it has 129)."],
        "image": ["This field takes at most 255 characters (it has 256)."],
    }
    assert "maxlength" not in form.fields["image"].widget.attrs  # a browser would cut pasted text to it


@pytest.mark.parametrize("field", ["name", "command", "team", "tags"])
def test_a_nul_in_any_field_is_refused_before_the_database_sees_it(field, django_assert_num_queries):
    data = {"name": "n", "image": "i", field: ["a", "b\x00"] if field == "tags" else "x\x00y"}
    form = RunLike(data)
    with django_assert_num_queries(0):  # the team field would have looked the slug up
        assert not form.is_valid()
    assert form.errors == {field: [NUL]}


def test_a_form_without_a_nul_is_cleaned_as_before():
    form = RunLike({"name": "db", "image": "overlay-portal/tools:latest"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "db"
