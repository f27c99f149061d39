"""The task list: its sections, in order, each with its own form."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from . import forms


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    form_class: type
    intro: str = ""


SECTIONS: list[Section] = [
    Section("who", _("Who the request is for"), forms.WhoForm,
            _("You can ask for yourself, or for someone you are the parent, legal guardian or "
              "healthcare proxy of.")),
    Section("about", _("About the patient"), forms.AboutForm),
    Section("diagnosis", _("The diagnosis"), forms.DiagnosisForm,
            _("Tell us what the patient was diagnosed with, and by whom.")),
    Section("treatment", _("Proposed treatment"), forms.TreatmentForm,
            _("What the doctors have recommended so far.")),
    Section("reasons", _("Why you want a second opinion"), forms.ReasonsForm),
    Section("background", _("Health background"), forms.BackgroundForm,
            _("The specialist will use this to understand the whole picture.")),
    Section("specialist", _("Specialist preferences"), forms.SpecialistForm),
    Section("pcp", _("Primary care physician"), forms.PCPForm,
            _("Your own doctor should see the report. With your permission we send it to them.")),
    Section("insurance", _("Insurance"), forms.InsuranceForm,
            _("A coordinator checks whether your plan covers a second opinion and tells you "
              "before any cost.")),
    Section("authorisation", _("Authorisation to use your records"), forms.AuthorisationForm),
]
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}
