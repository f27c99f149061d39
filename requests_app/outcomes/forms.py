from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SURE_QUESTIONS, TreatmentChange

YES_NO = (("yes", _("Yes")), ("no", _("No")))


def _yes(value: str) -> bool:
    return value == "yes"


class SureForm(forms.Form):
    """The four SURE questions, yes or no each (the skip button bypasses it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, letter, question in SURE_QUESTIONS:
            self.fields[name] = forms.TypedChoiceField(
                label=question,
                choices=YES_NO,
                coerce=_yes,
                widget=forms.RadioSelect(attrs={"class": "inline-radios"}),
                error_messages={
                    "required": _("Answer yes or no to this question (or skip all four)."),
                    "invalid_choice": _("Answer yes or no to this question (or skip all four)."),
                },
            )
            self.fields[name].letter = letter


class TreatmentOutcomeForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Did the second opinion change your treatment?"),
        choices=TreatmentChange.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose one of the four answers."),
            "invalid_choice": _("Choose one of the four answers."),
        },
    )
