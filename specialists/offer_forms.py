from django import forms
from django.utils.translation import gettext_lazy as _

from secondop.forms import CharacterCountMixin

from .matching import RELAXABLE
from .models import DeclineReason


class RelaxForm(forms.Form):
    """Which relaxable checks the coordinator waives for a case, and why."""

    relax_language = forms.BooleanField(
        label=_("Include specialists who do not speak the language asked for"), required=False)
    relax_mode = forms.BooleanField(
        label=_("Include specialists who do not offer the consultation asked for"),
        required=False)
    relax_reason = forms.CharField(
        label=_("Why (recorded with the offer)"), required=False, max_length=1000,
        help_text=_("For example: “The patient agreed to an interpreter.”"))

    def clean(self):
        data = super().clean()
        if (data.get("relax_language") or data.get("relax_mode")) and not (
                data.get("relax_reason") or "").strip():
            self.add_error("relax_reason", _("Say why the check is relaxed."))
        return data

    def relaxed(self) -> frozenset[str]:
        data = getattr(self, "cleaned_data", {})
        chosen = {"language" if data.get("relax_language") else "",
                  "mode" if data.get("relax_mode") else ""}
        return frozenset(chosen & RELAXABLE)


class OfferAcceptForm(forms.Form):
    no_conflict = forms.BooleanField(
        label=_("I have no conflict of interest with this case: I have not treated this "
                "patient, I do not work with the doctors who diagnosed them, and I have no "
                "financial interest in the treatment proposed"),
        error_messages={"required": _("Confirm that you have no conflict of interest.")},
    )


class OfferDeclineForm(CharacterCountMixin, forms.Form):
    reason = forms.ChoiceField(label=_("Why are you declining?"), choices=DeclineReason.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("Choose why you are declining.")})
    note = forms.CharField(label=_("Anything the coordinator should know (optional)"),
                           required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
