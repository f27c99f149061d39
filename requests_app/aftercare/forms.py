from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin, DateInputField

from . import consent
from .models import AnswerKind


class ShareForm(forms.Form):
    email = forms.EmailField(
        label=_("Your doctor's email address"),
        help_text=_("We filled in the address you gave when you made your request. You can "
                    "change it."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter your doctor's email address."),
                        "invalid": _("Enter an email address in the right form, like "
                                     "name@example.com.")},
    )
    name = forms.CharField(
        label=_("Your doctor's name (optional)"), max_length=150, required=False,
        help_text=_("Only for you, to tell your links apart. It is not put in the email."),
    )
    consent = forms.BooleanField(
        label=consent.WORDING,
        error_messages={"required": _("Tick the box to agree to send your report.")},
    )


class FollowUpQuestionForm(CharacterCountMixin, forms.Form):
    text = forms.CharField(
        label=_("Your question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Ask about something in your report. For example: “Which tests should I "
                    "have before surgery?”"),
        error_messages={"required": _("Enter your question.")},
    )


class FollowUpAnswerForm(CharacterCountMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Your answer is"), choices=AnswerKind.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose what your answer is.")},
    )
    answer = forms.CharField(
        label=_("Your answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("The patient reads this on their report page. For tests or a "
                    "consultation, say which and why."),
        error_messages={"required": _("Enter your answer.")},
    )


SCORES = [(5, _("5: Very good")), (4, _("4: Good")), (3, _("3: Neither good nor poor")),
          (2, _("2: Poor")), (1, _("1: Very poor"))]


class RatingForm(CharacterCountMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=_("How would you rate our service?"), choices=SCORES, coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"), max_length=2000,
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please do not include medical details."),
    )


class ConcordanceFilterForm(forms.Form):
    """A period, by the day the report was first released. Dates are not PHI, so
    the filter is an ordinary GET form and its URL can be shared."""

    start = DateInputField(label=_("From"), name=_("the first day"), required=False)
    end = DateInputField(label=_("To"), name=_("the last day"), required=False)

    # Reports exist from SecondOp's start to now: a year outside these bounds is
    # a typing slip (and 31 December 9999 has no next day to count up to).
    FIRST_YEAR, LAST_YEAR = 2000, 2100

    def _clean_year(self, name: str):
        day = self.cleaned_data.get(name)
        if day and not self.FIRST_YEAR <= day.year <= self.LAST_YEAR:
            raise ValidationError(_("Enter a year from %(first)s to %(last)s.")
                                  % {"first": self.FIRST_YEAR, "last": self.LAST_YEAR})
        return day

    def clean_start(self):
        return self._clean_year("start")

    def clean_end(self):
        return self._clean_year("end")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError(_("The first day must be on or before the last day."))
        return data
