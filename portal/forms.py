from django import forms

from plumbing.forms import PortalForm

from .models import ApiToken, Membership


class MembershipAddForm(PortalForm):
    username = forms.CharField(
        max_length=150,
        help_text="The person's login name; an admin creates accounts.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text="Owners manage members; members create, change and remove; viewers only read.",
    )


class ApiTokenForm(PortalForm):
    """A new token's name; the service says what a name must be."""

    class Meta:
        model = ApiToken

    name = forms.CharField(
        required=False,
        label="Name it after what will use it",
        widget=forms.TextInput(attrs={"placeholder": "cli", "autocomplete": "off", "spellcheck": "false"}),
    )
