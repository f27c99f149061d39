from django import forms
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin

from .matching import RELAXABLE
from .models import DeclineReason


class RelaxForm(forms.Form):
    """Which relaxable checks the coordinator waives for a case, and why."""

    relax_language = forms.BooleanField(
        label=_("Include specialists who do not speak the language asked for"), required=False
    )
    relax_mode = forms.BooleanField(
        label=_("Include specialists who do not offer the consultation asked for"), required=False
    )
    relax_reason = forms.CharField(
        label=_("Why (recorded with the offer)"),
        required=False,
        max_length=1000,
        help_text=_("For example: “The patient agreed to an interpreter.”"),
    )

    def clean(self):
        data = super().clean()
        if (data.get("relax_language") or data.get("relax_mode")) and not (
            data.get("relax_reason") or ""
        ).strip():
            self.add_error("relax_reason", _("Say why the check is relaxed."))
        return data

    def relaxed(self) -> frozenset[str]:
        data = getattr(self, "cleaned_data", {})
        chosen = {
            "language" if data.get("relax_language") else "",
            "mode" if data.get("relax_mode") else "",
        }
        return frozenset(chosen & RELAXABLE)


class OfferAcceptForm(forms.Form):
    no_conflict = forms.BooleanField(
        label=_(
            "I have no conflict of interest with this case: I have not treated this "
            "patient, I do not work with the doctors who diagnosed them, and I have no "
            "financial interest in the treatment proposed"
        ),
        error_messages={"required": _("Confirm that you have no conflict of interest.")},
    )


class OfferDeclineForm(CharacterCountMixin, forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you declining?"),
        choices=DeclineReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why you are declining.")},
    )
    note = forms.CharField(
        label=_("Anything the coordinator should know (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SpecialtyForm(forms.Form):
    """The specialty the case needs, chosen by the coordinator at triage."""

    specialty = forms.ModelChoiceField(
        label=_("The specialty this case needs"),
        queryset=None,
        empty_label=_("Choose a specialty"),
        error_messages={
            "required": _("Choose a specialty."),
            "invalid_choice": _("Choose a specialty from the list."),
        },
    )
    reason = forms.CharField(
        label=_("Why (the patient reads this on their timeline)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For example: “A heart defect in a child is best reviewed by a pediatric cardiologist.”"
        ),
        error_messages={"required": _("Say why the case needs this specialty.")},
    )

    def __init__(self, *args, **kwargs):
        from .models import Specialty

        super().__init__(*args, **kwargs)
        self.fields["specialty"].queryset = Specialty.objects.order_by("name")


class HoldForm(forms.Form):
    """No one qualifies: hold the case, say why to the patient, and when to look again."""

    reason = forms.ChoiceField(
        label=_("What the patient reads"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose why the case is on hold.")},
    )
    until = forms.DateField(
        label=_("Look again on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Choose the day to look again."),
            "invalid": _("Enter a real date, for example 2026-12-21."),
        },
    )
    note = forms.CharField(
        label=_("Note for the care team (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        from requests_app.models import HoldReason

        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = HoldReason.choices


class TellPatientForm(CharacterCountMixin, forms.Form):
    body = forms.CharField(
        label=_("Message to the patient"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "Sent to the request's messages; the patient is told by email that "
            "there is a message, without its words."
        ),
        error_messages={"required": _("Write the message to the patient.")},
    )
