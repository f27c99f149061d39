import datetime
import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin

from . import consent
from .consent import PARTICIPATION_WORDING
from .models import AnswerKind


class ShareForm(forms.Form):
    email = forms.EmailField(
        label=_("Your doctor's email address"),
        help_text=_(
            "We filled in the address you gave when you made your request. You can change it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": _("Enter your doctor's email address."),
            "invalid": _("Enter an email address in the right form, like name@example.com."),
        },
    )
    name = forms.CharField(
        label=_("Your doctor's name (optional)"),
        max_length=150,
        required=False,
        help_text=_("Only for you, to tell your links apart. It is not put in the email."),
    )
    language = forms.ChoiceField(
        label=_("Language of the email to your doctor"),
        choices=settings.LANGUAGES,
        initial="en",
        required=False,  # English when not given (a US doctor's default)
        help_text=_("The email and the page your doctor opens are in this language."),
    )
    smart_link = forms.BooleanField(
        label=_("Also make a SMART Health Link (a QR code)"),
        required=False,
        help_text=_(
            "A QR code your doctor's record system can read, to file your report and its "
            "PDF. Show it on your phone or send the link. We show it once, on this page."
        ),
    )
    passcode = forms.CharField(
        label=_("Passcode for the QR code (optional)"),
        required=False,
        min_length=6,
        max_length=40,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "6 to 40 characters. Whoever reads the QR code also needs it: tell it to your "
            "doctor yourself. After too many wrong tries the QR code stops working."
        ),
        error_messages={
            "min_length": _("Use at least 6 characters for the passcode."),
            "max_length": _("Use at most 40 characters for the passcode."),
        },
    )
    consent = forms.BooleanField(
        label=consent.WORDING,
        error_messages={"required": _("Tick the box to agree to send your report.")},
    )
    participation = forms.BooleanField(
        label=PARTICIPATION_WORDING,
        required=False,
        help_text=_(
            "Optional. You see everything your doctor does on your request's page, and you "
            "can take this back at any time."
        ),
    )

    def clean(self):
        data = super().clean()
        data["language"] = data.get("language") or "en"
        if data.get("passcode") and not data.get("smart_link"):
            self.add_error(
                "smart_link",
                _("Tick this box to make the QR code, or leave the passcode empty."),
            )
        return data


class FollowUpQuestionForm(CharacterCountMixin, forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Ask about something in your report. For example: “Which tests should I "
            "have before surgery?”"
        ),
        error_messages={"required": _("Enter your question.")},
    )


class FollowUpAnswerForm(CharacterCountMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Your answer is"),
        choices=AnswerKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what your answer is.")},
    )
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "The patient reads this on their report page. For tests or a "
            "consultation, say which and why."
        ),
        error_messages={"required": _("Enter your answer.")},
    )


SCORES = [
    (5, _("5: Very good")),
    (4, _("4: Good")),
    (3, _("3: Neither good nor poor")),
    (2, _("2: Poor")),
    (1, _("1: Very poor")),
]


class RatingForm(CharacterCountMixin, forms.Form):
    score = forms.TypedChoiceField(
        label=_("How would you rate our service?"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please do not include medical details."),
    )


MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def _local_month(word: str) -> int | None:
    for number in range(1, 13):
        if word in {str(MONTHS[number]).lower(), str(MONTHS_3[number]).lower()}:
            return number
    return None


class MonthField(forms.CharField):
    """A calendar month: "2026-11" (what a month picker sends), "11/2026" or
    "November 2026". Cleans to the month's first day."""

    widget = forms.TextInput(
        attrs={
            "type": "month",
            "inputmode": "numeric",
            "autocomplete": "off",
            "placeholder": "2026-11",
        }
    )
    default_error_messages = {
        "invalid": _("Enter a month like 2026-11 or November 2026."),
    }

    def to_python(self, value):
        text = (super().to_python(value) or "").strip().lower().replace(".", " ")
        if not text:
            return None
        year = month = None
        if match := re.fullmatch(r"(\d{4})\s*[-/]\s*(\d{1,2})", text):
            year, month = int(match[1]), int(match[2])
        elif match := re.fullmatch(r"(\d{1,2})\s*[-/]\s*(\d{4})", text):
            month, year = int(match[1]), int(match[2])
        elif match := re.fullmatch(r"([^\W\d_]+)\s*,?\s*(?:de\s+)?(\d{4})", text):
            # English names, or the page's language's ("noviembre de 2026").
            month, year = MONTH_NAMES.get(match[1]) or _local_month(match[1]), int(match[2])
        if not year or not month or not 1 <= month <= 12:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return datetime.date(year, month, 1)


class ConcordanceFilterForm(forms.Form):
    """A period of whole calendar months, by the month the report was first
    released: the smallest period is one month, so that no figure describes a
    day's or a week's few patients. Months are not PHI, so the filter is an
    ordinary GET form and its URL can be shared."""

    start = MonthField(
        label=_("From the month"),
        required=False,
        help_text=_("For example 2026-01. Leave empty for no limit."),
    )
    end = MonthField(
        label=_("To the month (included)"),
        required=False,
        help_text=_("For example 2026-11. Leave empty for up to now."),
    )

    # Reports exist from SecondOp's start to now: a year outside these bounds is
    # a typing slip.
    FIRST_YEAR, LAST_YEAR = 2000, 2100

    def _clean_year(self, name: str):
        month = self.cleaned_data.get(name)
        if month and not self.FIRST_YEAR <= month.year <= self.LAST_YEAR:
            raise ValidationError(
                _("Enter a year from %(first)s to %(last)s.")
                % {"first": self.FIRST_YEAR, "last": self.LAST_YEAR}
            )
        return month

    def clean_start(self):
        return self._clean_year("start")

    def clean_end(self):
        month = self._clean_year("end")
        if month:  # the month's last day
            month = (month.replace(day=28) + datetime.timedelta(days=4)).replace(
                day=1
            ) - datetime.timedelta(days=1)
        return month

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError(_("The first month must be on or before the last month."))
        return data


class PhysicianQuestionForm(CharacterCountMixin, forms.Form):
    text = forms.CharField(
        label=_("Your question to the specialist"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "You may ask one question. The specialist answers it as an addendum to the "
            "report, which you and your patient both read."
        ),
        error_messages={
            "required": _("Enter your question."),
            "max_length": _("Keep your question to 2000 characters or fewer."),
        },
    )


class PhysicianCallRequestForm(CharacterCountMixin, forms.Form):
    """The physician asks for a call with the specialist (issue 21)."""

    topic = forms.CharField(
        label=_("What would you like to talk about? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The specialist and your patient read this."),
        error_messages={"max_length": _("Keep it to 500 characters or fewer.")},
    )


class PhysicianAnswerForm(CharacterCountMixin, forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Added to the report: the patient and their doctor both read it."),
        error_messages={
            "required": _("Enter your answer."),
            "max_length": _("Keep your answer to 5000 characters or fewer."),
        },
    )
