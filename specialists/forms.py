"""The specialist's profile forms and the public directory's filters.

Each profile form checks what a person can fix (with the profile it edits, for
duplicates); the service checks it again under its lock and saves. No form here
is ever saved itself: views pass `cleaned_data` to specialists.profile_services."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from requests_app.icd10.widgets import Icd10Widget
from secondop.forms import CharacterCountMixin, DateInputField
from secondop.us_states import USState

from . import profile_services
from .models import (
    Certification,
    ConsultationMode,
    SpecialistProfile,
    Specialty,
)

MAX_LANGUAGES = 15
MAX_NETWORKS = 30


def _split(text: str, separators: str) -> list[str]:
    """Items of a list typed by hand, trimmed, duplicates (any case) dropped."""
    seen, items = set(), []
    for item in re.split(separators, text or ""):
        item = " ".join(item.split())
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


class ProfileForm(CharacterCountMixin, forms.ModelForm):
    """The main details: what matching reads and the directory shows."""

    languages = forms.CharField(
        label=_("Languages you consult in"),
        max_length=400,
        help_text=_("Separate them with commas, for example: English, Spanish."),
        error_messages={"required": _("Enter at least one language you consult in.")},
    )
    insurance_networks = forms.CharField(
        label=_("Insurance networks you are in (optional)"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, as the insurer names it, for example: Empire Health."),
    )
    consultation_modes = forms.MultipleChoiceField(
        label=_("Consultations you offer"),
        choices=ConsultationMode.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose all that apply."),
        error_messages={"required": _("Choose at least one kind of consultation.")},
    )
    max_open_cases = forms.IntegerField(
        label=_("Most open cases at once"),
        min_value=1,
        max_value=100,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "input-width-4"}),
        help_text=_(
            "Cases assigned to you and offers waiting for your answer count. When you "
            "reach this number, coordinators cannot offer you more."
        ),
        error_messages={
            "required": _("Enter the most cases you can have open at once."),
            "invalid": _("Enter a whole number, like 8."),
            "min_value": _("Enter a number from 1 to 100."),
            "max_value": _("Enter a number from 1 to 100."),
        },
    )
    turnaround_days = forms.IntegerField(
        label=_("Usual turnaround, in days"),
        min_value=1,
        max_value=60,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "input-width-4"}),
        help_text=_("From accepting a case to sending your report."),
        error_messages={
            "required": _("Enter your usual turnaround in days."),
            "invalid": _("Enter a whole number of days, like 7."),
            "min_value": _("Enter a number of days from 1 to 60."),
            "max_value": _("Enter a number of days from 1 to 60."),
        },
    )

    class Meta:
        model = SpecialistProfile
        fields = [
            "credential",
            "title",
            "npi",
            "specialties",
            "subspecialty",
            "institution",
            "bio",
            "languages",
            "insurance_networks",
            "consultation_modes",
            "accepting_cases",
            "max_open_cases",
            "turnaround_days",
        ]
        widgets = {"credential": forms.RadioSelect, "specialties": forms.CheckboxSelectMultiple}
        labels = {
            "bio": _("About you (optional)"),
            "subspecialty": _("Your focus (optional)"),
            "accepting_cases": _("I am accepting new cases"),
        }
        help_texts = {
            "npi": _(
                "Your 10-digit National Provider Identifier, as the NPPES NPI Registry "
                "shows it. Administrators use it to check your licences."
            ),
            "institution": _(
                "The hospital or practice where you work. You are never offered "
                "a case first diagnosed there."
            ),
            "bio": _(
                "Patients read this in the directory: your training, experience and what "
                "you focus on."
            ),
            "accepting_cases": _(
                "Untick this to stop new offers without changing anything "
                "else. The directory says you are not taking new cases."
            ),
        }
        error_messages = {
            "title": {"required": _("Enter the letters after your name, for example MD.")},
            "institution": {"required": _("Enter the hospital or practice where you work.")},
            "specialties": {"required": _("Choose at least one specialty.")},
            "credential": {"required": _("Choose your degree.")},
        }

    npi = forms.CharField(
        label=_("NPI (optional)"),
        required=False,
        max_length=20,
        help_text=_(
            "Your 10-digit National Provider Identifier, as the NPPES NPI Registry "
            "shows it. Administrators use it to check your licences."
        ),
    )

    def clean_npi(self) -> str:
        # People copy it with spaces or dashes ("1234-567-893").
        return "".join(ch for ch in self.cleaned_data.get("npi", "") if ch not in " -")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialties"].queryset = Specialty.objects.order_by("name")
        self.fields["credential"].choices = [c for c in self.fields["credential"].choices if c[0]]
        profile = self.instance
        self.initial["languages"] = ", ".join(profile.languages) if profile.pk else "English"
        self.initial["insurance_networks"] = "\n".join(profile.insurance_networks)
        if not profile.pk:
            self.initial["consultation_modes"] = [ConsultationMode.WRITTEN]

    def clean_languages(self) -> list[str]:
        languages = [
            lang[:1].upper() + lang[1:] if lang.islower() else lang
            for lang in _split(self.cleaned_data["languages"], r"[,;\n]")
        ]
        if not languages:
            raise forms.ValidationError(_("Enter at least one language you consult in."))
        if len(languages) > MAX_LANGUAGES or any(len(lang) > 40 for lang in languages):
            raise forms.ValidationError(_("Enter up to 15 languages, each up to 40 characters."))
        return languages

    def clean_insurance_networks(self) -> list[str]:
        networks = _split(self.cleaned_data.get("insurance_networks", ""), r"\n")
        if len(networks) > MAX_NETWORKS or any(len(net) > 100 for net in networks):
            raise forms.ValidationError(_("Enter up to 30 networks, each up to 100 characters."))
        return networks


class ConditionAddForm(forms.Form):
    code = forms.CharField(
        label=_("Add a condition"),
        max_length=100,
        widget=Icd10Widget,
        help_text=_(
            "Start typing a code (C50) or the name of a condition, and choose from the "
            "list. A category such as C50 covers every code that starts with it."
        ),
        error_messages={"required": _("Enter an ICD-10-CM code or category.")},
    )

    def __init__(self, *args, profile: SpecialistProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile

    def clean_code(self) -> str:
        raw = self.cleaned_data["code"]
        found = profile_services.icd10_code_lookup(raw)
        if found is None:
            raise forms.ValidationError(
                _("We could not find the code “%(code)s”. Choose one from the list.")
                % {"code": raw.strip()[:20]}
            )
        covering = profile_services.condition_already_listed(self.profile.conditions, found.code)
        if covering:
            raise forms.ValidationError(
                _("%(code)s is already on your list (as %(listed)s).")
                % {"code": found.code, "listed": covering}
            )
        return found.code


class CertificationAddForm(forms.Form):
    certification = forms.ChoiceField(
        label=_("Board certification"),
        help_text=_("Grouped by the board that issues it."),
        error_messages={
            "required": _("Choose a board certification."),
            "invalid_choice": _("Choose a board certification from the list."),
        },
    )
    year = forms.IntegerField(
        label=_("Year certified"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "input-width-4"}),
        help_text=_("The year of your first certification, for example 2012."),
        error_messages={
            "required": _("Enter the year you were certified."),
            "invalid": _("Enter the year as 4 digits, like 2012."),
        },
    )

    def __init__(self, *args, profile: SpecialistProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        held = set(profile.certifications.values_list("certification_id", flat=True))
        groups: dict[str, list] = {}
        for cert in (
            Certification.objects.filter(active=True)
            .exclude(pk__in=held)
            .select_related("board")
            .order_by("board__name", "name")
        ):
            groups.setdefault(cert.board.name, []).append((cert.slug, cert.name))
        self.fields["certification"].choices = [("", _("Choose a certification")), *groups.items()]

    def clean_certification(self) -> Certification:
        certification = (
            Certification.objects.filter(active=True, slug=self.cleaned_data["certification"])
            .select_related("board")
            .first()
        )
        if certification is None:
            raise forms.ValidationError(_("Choose a board certification from the list."))
        return certification

    def clean_year(self) -> int:
        year = self.cleaned_data["year"]
        error = profile_services.certification_year_error(year)
        if error:
            raise forms.ValidationError(error)
        return year


class LicenceForm(forms.Form):
    """A new licence (with its state), or the renewal of one (`state` given:
    only the number and the expiry date change)."""

    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("Choose a state")), *USState.choices],
        error_messages={"required": _("Choose the state that issued the licence.")},
    )
    number = forms.CharField(
        label=_("Licence number"),
        max_length=40,
        error_messages={"required": _("Enter the licence number.")},
    )
    expires_on = DateInputField(
        label=_("Expires on"), name=_("the expiry date"), help_text=_("For example, 31 12 2027.")
    )

    def __init__(self, *args, profile: SpecialistProfile, state: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.renewing = bool(state)
        if self.renewing:
            del self.fields["state"]

    def clean_state(self) -> str:
        state = self.cleaned_data["state"]
        held = self.profile.licences.filter(state=state).first() if self.profile.pk else None
        if held is not None:
            raise forms.ValidationError(
                _("You already have a licence in %(state)s: change that one instead.")
                % {"state": held.get_state_display()}
            )
        return state

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        error = profile_services.licence_expiry_error(expires_on) if expires_on else None
        if error:
            raise forms.ValidationError(error)
        return expires_on


class LeaveForm(forms.Form):
    starts_on = DateInputField(label=_("First day away"), help_text=_("For example, 21 12 2026."))
    ends_on = DateInputField(label=_("Last day away"), help_text=_("For example, 4 1 2027."))

    def __init__(self, *args, profile: SpecialistProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on:
            errors = profile_services.leave_errors(
                starts_on=starts_on, ends_on=ends_on, others=self.profile.leave.all()
            )
            for field, message in errors.items():
                self.add_error(field, message)
        return data


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Your photo"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        help_text=_(
            "A JPEG or PNG image, smaller than 5 MB. A clear photo of your head and "
            "shoulders works best. Anyone can see it in the directory."
        ),
        error_messages={
            "required": _("Choose a photo to upload."),
            "empty": _("The file is empty."),
        },
    )

    def clean_photo(self):
        photo = self.cleaned_data["photo"]
        profile_services.photo_format(photo)  # raises ValidationError
        return photo


# --- The public directory -------------------------------------------------------------------
class DirectoryFilterForm(forms.Form):
    """What patients filter the directory by (GET: nothing here is about their health)."""

    specialty = forms.ModelChoiceField(
        label=_("Kind of doctor"),
        required=False,
        to_field_name="slug",
        queryset=Specialty.objects.order_by("name"),
        empty_label=_("Any specialty"),
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    state = forms.ChoiceField(
        label=_("Your state"),
        required=False,
        choices=[("", _("Any state")), *USState.choices],
        help_text=_("The doctor must be allowed to treat people in your state."),
    )
    mode = forms.ChoiceField(
        label=_("Way to meet"),
        required=False,
        choices=[("", _("Any kind")), *ConsultationMode.choices],
    )

    def __init__(self, *args, languages: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            ("", _("Any language")),
            *((lang, lang) for lang in languages),
        ]

    def filters(self) -> dict:
        """The filters that are valid; one bad value leaves the others working."""
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}
