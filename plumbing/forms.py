"""What every form of the portal shares: labels as the portal writes them, and how a form hands its
data to a service and shows the service's refusal on the field it is about."""

from __future__ import annotations

from django import forms

from plumbing.errors import USER_ERRORS, http_status_of


class PortalForm(forms.Form):
    """Labels without Django's trailing colon, as the rest of the portal writes them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def refuse(form: forms.Form, error) -> None:
    """Show a service's refusal on the field it is about, or above the form when it is about no field."""
    field = getattr(error, "field", None)
    if field in getattr(form, "shown_elsewhere", ()):
        form.errors[field] = form.error_class([error.message])
    else:
        form.add_error(field if field in form.fields else None, error.message)


def submit(form: forms.Form, action, *, valid: bool = True):
    """Hand a valid form's data to `action` (a service call); returns (its answer, HTTP status).

    Bad input answers 400; a service's refusal goes onto the form, with what the user typed kept,
    and answers the service's status (409 for a conflict). The answer is None unless it succeeded.
    """
    if not (form.is_valid() and valid):
        return None, 400
    try:
        return action(form.cleaned_data), 200
    except USER_ERRORS as error:
        refuse(form, error)
        return None, http_status_of(error)
