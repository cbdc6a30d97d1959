"""The form that adds a webhook endpoint: its URL, a description and the events it wants."""

from __future__ import annotations

from django import forms

from plumbing.forms import PortalForm

from .events import EVENT_TYPES, PATTERNS
from .models import WebhookEndpoint

EVENT_CHOICES = [
    ("Every event of a kind", [(pattern, pattern) for pattern in PATTERNS]),
    ("One event", [(name, name) for name in EVENT_TYPES]),
]


class WebhookEndpointForm(PortalForm):
    class Meta:
        model = WebhookEndpoint

    url = forms.CharField(
        required=False,
        label="URL",
        help_text="Where deliveries are POSTed: https://, to a public address.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(required=False, help_text="Optional: what receives them, for your team.")
    events = forms.MultipleChoiceField(
        required=False,
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="A pattern such as network.* covers every event of that kind, those added later too.",
    )
