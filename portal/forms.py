"""Forms of the portal's own pages: logging in, adding a member, naming an API token."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from plumbing.forms import PortalForm

from .filters import DATE_FORMAT
from .models import ApiToken, Membership, Tenant


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
    """A new token: its name, when it stops working, read-only or not, and (for owners) a team to belong
    to with a role; the service says what each must be."""

    class Meta:
        model = ApiToken

    name = forms.CharField(
        required=False,
        label="Name it after what will use it",
        widget=forms.TextInput(attrs={"placeholder": "cli", "autocomplete": "off", "spellcheck": "false"}),
    )
    expires = forms.DateField(
        required=False,
        label="Stops working on",
        input_formats=[DATE_FORMAT],
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
        widget=forms.DateInput(format=DATE_FORMAT, attrs={"type": "date"}),
    )
    read_only = forms.BooleanField(required=False, label="Read-only: it may look but never change anything")
    team = forms.ModelChoiceField(
        queryset=Tenant.objects.none(),
        required=False,
        empty_label="Me (it acts as you)",
        label="Belongs to",
        help_text="A team token belongs to the team, not to you: it keeps working for CI after you leave.",
        error_messages={"invalid_choice": "Choose one of the teams you own."},
    )
    role = forms.ChoiceField(
        choices=ApiToken.Role.choices,
        initial=ApiToken.Role.VIEWER,
        required=False,
        label="The team token's role",
        help_text="Members create, change and remove; viewers only read.",
    )

    def __init__(self, *args, teams=None, max_days: int = 0, default_days: int = 90, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.now().date()
        self.fields["expires"].initial = today + timedelta(days=default_days)
        self.fields["expires"].help_text = (
            f"It stops at 00:00 UTC that day, within {max_days} days; empty: {default_days} days from now."
            if max_days
            else f"It stops at 00:00 UTC that day; empty: {default_days} days from now."
        )
        if max_days:
            self.fields["expires"].widget.attrs["max"] = (today + timedelta(days=max_days)).isoformat()
        self.fields["expires"].widget.attrs["min"] = (today + timedelta(days=1)).isoformat()
        if teams is not None and teams.exists():
            self.fields["team"].queryset = teams
        else:
            del self.fields["team"], self.fields["role"]


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
