"""plumbing/templatetags/error_summary.py: what a refused form's summary lists and where its links go;
and no form of the portal's pages leaves its required boxes to the browser's own pop-up."""

import pytest
from django import forms

from plumbing.forms import PortalForm
from plumbing.templatetags.error_summary import Problem, problems_of
from tests.factories import make_container, make_network, make_staff
from tests.pages import tags_of

pytestmark = pytest.mark.django_db


class Order(PortalForm):
    name = forms.CharField()
    size = forms.ChoiceField(choices=[("s", "small"), ("l", "large")], widget=forms.RadioSelect)
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("Nothing can be ordered today; try tomorrow.")


class Row(PortalForm):
    key = forms.CharField(label="Key")
    note = forms.CharField(required=False)


Rows = forms.formset_factory(Row, extra=0)


def test_the_summary_lists_the_form_s_errors_then_its_fields_then_the_rows_each_linked_to_its_control():
    order = Order({"size": "xl"})
    rows = Rows({"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0", "form-0-key": "a", "form-1-note": "b"})

    assert problems_of(order, rows) == [
        Problem("", "Nothing can be ordered today; try tomorrow.", ""),
        Problem("Name", "This field is required.", "id_name"),
        Problem("Size", "Select a valid choice. xl is not one of the available choices.", "id_size_0"),
        Problem("Token", "This field is required.", ""),  # a hidden field has no control to go to
        Problem("Key (row 2)", "This field is required.", "id_form-1-key"),
    ]


def test_a_form_not_sent_or_accepted_has_no_summary():
    assert problems_of(Order(), Rows()) == []
    assert problems_of(Row({"key": "a"})) == []


def test_every_form_with_a_required_box_says_novalidate(client, team):
    """The portal's own sentences, not the browser's pop-up, answer an empty box."""
    web = make_network(team, "web")
    db = make_container(team, "db", networks=[web])
    staff = make_staff("root")
    pages = [(None, "/login/"), (staff, "/clusters/register/"), (staff, f"/clusters/{team.cluster.pk}/")]
    for url in ["/", "/networks/new/", f"/networks/{web.pk}/", "/containers/run/", f"/containers/{db.pk}/"]:
        pages.append((team.owner, url))
    for url in ["/members/", "/registries/", "/tokens/", "/audit/"]:
        pages.append((team.owner, url))
    checked = 0
    for user, url in pages:
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        form = None
        for tag, attrs in tags_of(response.content.decode()):
            if tag == "form":
                form = attrs
            elif tag in ("input", "select", "textarea") and "required" in attrs:
                assert form is not None and "novalidate" in form, (
                    f"{url}: #{attrs.get('id')} in a form without novalidate"
                )
                checked += 1
    assert checked > 5  # the check saw the pages' required boxes (login, run, create, members…)
