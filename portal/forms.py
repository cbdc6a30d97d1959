"""Forms of the portal's own pages: logging in, adding a member, naming an API token."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

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


class LoginForm(AuthenticationForm):
    """Django's login, saying in the portal's words what is missing or wrong (the page has `novalidate`:
    no browser pop-up for an empty box)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password didn't match. Try again.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.fields["username"].error_messages["required"] = "Type your username."
        self.fields["password"].error_messages["required"] = "Type your password."

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if settings.LOCAL_LOGIN == "staff-only" and not user.is_staff:
            raise forms.ValidationError(
                f"Passwords here are for staff only. Sign in with {settings.OIDC_LABEL} instead.",
                code="staff_only",
            )
