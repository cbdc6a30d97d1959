"""The form that adds a webhook endpoint: its URL, a description and the events it wants."""

from __future__ import annotations

from django import forms

from plumbing.forms import PortalForm

from .destinations import destinations_allowed
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
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(required=False, help_text="Optional: what receives them, for your team.")
    events = forms.MultipleChoiceField(
        required=False,
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="A pattern such as network.* covers every event of that kind, those added later too.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["url"].help_text = destinations_allowed()
