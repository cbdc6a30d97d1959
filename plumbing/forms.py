"""What every form of the portal shares: labels as the portal writes them, text its column can hold, and
how a form hands its data to a service and shows the service's refusal on the field it is about."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict

from plumbing.errors import USER_ERRORS, http_status_of
from plumbing.inputs import bound_by_column, column_max_length, unstorable


def _says_djangos_invalid_choice(field: forms.Field) -> bool:
    """A field picking one object whose refusal of another is still Django's "Select a valid choice. That choice
    is not one of the available choices."."""
    return (
        isinstance(field, forms.ModelChoiceField)
        and not isinstance(field, forms.ModelMultipleChoiceField)
        and field.error_messages["invalid_choice"] == forms.ModelChoiceField.default_error_messages["invalid_choice"]
    )


class PortalForm(forms.Form):
    """Labels without Django's trailing colon, as the rest of the portal writes them.

    A field holding a NUL character or a lone surrogate is refused with a sentence before any field is
    cleaned (a field's cleaning may query the database with it). With `Meta.model`, each text field is
    bounded by the model's column of the same name (or the one `Meta.columns` maps it to), and no widget
    has a `maxlength` for the browser to cut text to.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # A service's refusals about what the page shows beside this form (`shown_elsewhere`), by field.
        self.refused_elsewhere: dict[str, object] = {}
        meta = getattr(self, "Meta", None)
        model = getattr(meta, "model", None)
        if model is not None:
            columns = getattr(meta, "columns", {})
            for name, field in self.fields.items():
                limit = column_max_length(model, columns.get(name, name))
                if isinstance(field, forms.CharField) and limit and (field.max_length or limit + 1) > limit:
                    bound_by_column(field, limit)
        for name, field in self.fields.items():
            # A browser cuts what is pasted into a box to its maxlength, silently (a 300-character network
            # name was made as its first 63): the field refuses it instead, with a sentence naming the limit.
            field.widget.attrs.pop("maxlength", None)
            if _says_djangos_invalid_choice(field):
                # It says neither why nor what to do: the page was older than the object's removal, most often.
                field.error_messages["invalid_choice"] = (
                    f"That {(field.label or name.replace('_', ' ')).lower()} cannot be picked (removed since the "
                    "page was shown, or not your team's): pick one from the list."
                )

    def full_clean(self):
        refused = {}
        if self.is_bound:
            for name, field in self.fields.items():
                raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
                refused[name] = unstorable(raw)
        if not any(refused.values()):
            return super().full_clean()
        self._errors, self.cleaned_data = ErrorDict(), {}
        for name, reason in refused.items():
            if reason:
                code, sentence = reason
                self.add_error(name, forms.ValidationError(sentence, code=code))
        return None


def refuse(form: forms.Form, error) -> None:
    """Show a service's refusal on the field it is about, or above the form when it is about no field."""
    field = getattr(error, "field", None)
    if field is not None and field in getattr(form, "shown_elsewhere", ()):
        form.errors[field] = form.error_class([error.message])
        if isinstance(form, PortalForm):
            form.refused_elsewhere[field] = error
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


def shown_unchecked(*parts: forms.BaseForm | forms.BaseFormSet) -> None:
    """Forms and formsets drawn again with what was posted but not checked: a step inside a form (a row
    added) is not its submission, so it shows no error yet."""
    for part in parts:
        # Django checks a form when its errors are first asked for, unless they are already there.
        if isinstance(part, forms.BaseFormSet):
            part.__dict__.update(_errors=[], _non_form_errors=part.error_class())
            shown_unchecked(*part.forms)
        else:
            part.__dict__.update(_errors=ErrorDict(), cleaned_data={})
