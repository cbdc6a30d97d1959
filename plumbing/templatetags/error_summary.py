"""The summary a refused form opens with: every error it holds, each linked to its field.

`{% error_summary form formset … %}` draws templates/_form_errors.html above a form: the errors about
no field first, then each field's, in the form's order, a formset's rows after (named by their row).
portal.js moves focus to it when the page loads, so a refusal is seen and read out where the eyes are;
its links go to the fields, which Django marks `aria-invalid` and ties to their messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms, template
from django.core.exceptions import NON_FIELD_ERRORS

register = template.Library()


@dataclass(frozen=True)
class Problem:
    label: str  # what it is about ("" when about no field)
    message: str
    anchor: str  # the id of the control to go to ("" for none)


def field_anchor(bound: forms.BoundField) -> str:
    """The id of the control to focus: a group of boxes (use_fieldset) is entered by its first one."""
    if bound.is_hidden or not bound.auto_id:
        return ""
    return bound.id_for_label or (f"{bound.auto_id}_0" if bound.field.widget.use_fieldset else bound.auto_id)


def form_problems(form: forms.BaseForm, row: int | None = None) -> list[Problem]:
    where = f" (row {row})" if row is not None else ""
    problems = [Problem("", str(message), "") for message in form.non_field_errors()]
    for name, messages in form.errors.items():
        if name == NON_FIELD_ERRORS:
            continue
        if name in form.fields:
            bound = form[name]
            label, anchor = f"{bound.label}{where}", field_anchor(bound)
        else:  # a refusal shown beside the form (PortalForm.shown_elsewhere)
            label, anchor = name.replace("_", " ").capitalize(), ""
        problems.extend(Problem(label, str(message), anchor) for message in messages)
    return problems


def problems_of(*forms_and_formsets) -> list[Problem]:
    problems: list[Problem] = []
    for part in forms_and_formsets:
        if isinstance(part, forms.BaseFormSet):
            if not part.is_bound:
                continue
            problems.extend(Problem("", str(message), "") for message in part.non_form_errors())
            for number, row in enumerate(part.forms, start=1):
                problems.extend(form_problems(row, row=number))
        elif isinstance(part, forms.BaseForm) and part.is_bound:
            problems.extend(form_problems(part))
    return problems


@register.inclusion_tag("_form_errors.html")
def error_summary(*forms_and_formsets):
    """The summary of what the forms (and formsets) refused; nothing when they refused nothing."""
    problems = problems_of(*forms_and_formsets)
    return {"problems": problems, "count": len(problems)}
