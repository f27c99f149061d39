"""One form per task-list section. Each edits only its own fields, so a forged
field (status, owner, reference, due date) is simply not read, and a save in one
browser tab never touches another section's answers."""

import re
from datetime import date

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from requests_app.icd10.models import Icd10Code
from requests_app.icd10.widgets import Icd10Widget
from requests_app.models import Case, CaseStatus, Payment, Reason, Relationship
from secondop.forms import CharacterCountMixin, DateInputField
from specialists.models import SpecialistProfile, Specialty

MAX_QUESTIONS = 10
QUESTION_MAX_LENGTH = 500


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class SectionForm(CharacterCountMixin, forms.ModelForm):
    """`complete=True` (Save and continue) enforces the section's required
    answers; a plain save keeps whatever is there, checking only its format."""

    required_fields: tuple[str, ...] = ()
    # A section where the person can fix what this form refused, to link to.
    fix_in_section = ""
    required_messages: dict = {}
    # GOV.UK conditional reveals: field -> (the field whose choice shows it, the
    # values that do). The page shows it only after that choice (static/js/app.js;
    # without JavaScript every field shows). A revealed field's answer is
    # forgotten when the choice that shows it is not made, so what the server
    # keeps is what the person saw, with or without JavaScript.
    reveals: dict[str, tuple[str, tuple[str, ...]]] = {}
    forget_hidden_answers = True
    # Short labels for the check page and the case page ("Legal authority"
    # rather than the whole sentence ticked on the form).
    short_labels: dict = {}

    def __init__(self, *args, case: Case, complete: bool = False, **kwargs):
        super().__init__(*args, instance=case, **kwargs)
        self.case = case
        self.complete = complete
        for name, field in self.fields.items():
            field.required = complete and name in self.required_fields
            label = str(field.label or name).rstrip("?").lower()
            if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
                field.error_messages["required"] = _("Choose %(label)s.") % {"label": label}
            else:
                field.error_messages["required"] = _("Enter %(label)s.") % {"label": label}
            if name in self.required_messages:
                field.error_messages["required"] = self.required_messages[name]
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 4
            if isinstance(field.widget, forms.RadioSelect) and hasattr(field, "choices"):
                field.choices = [c for c in field.choices if c[0] != ""]
            if name in self.reveals:
                controller, values = self.reveals[name]
                field.reveal = {"name": self.add_prefix(controller), "values": " ".join(values)}

    def _post_clean(self):
        if self.forget_hidden_answers:
            for name, (controller, values) in self.reveals.items():
                chosen = self.cleaned_data.get(controller)
                chosen = "on" if chosen is True else chosen
                if chosen and chosen not in values and name in self.fields:
                    # Not shown for this choice: not an answer, and not an error.
                    self.cleaned_data[name] = (
                        self.fields[name].to_python(None)
                        if not isinstance(self.fields[name], forms.BooleanField)
                        else False
                    )
                    self.errors.pop(name, None)
        super()._post_clean()

    def require(self, name: str, message) -> None:
        if self.complete and not self.cleaned_data.get(name):
            self.add_error(name, message)

    @property
    def today(self) -> date:
        return timezone.localdate()


def _under_18_error(relationship: str, born: date | None, today: date):
    if born is None or not relationship or age_on(born, today) >= 18:
        return None
    if relationship == Relationship.SELF:
        return _(
            "This date of birth means the patient is under 18, so a parent or legal "
            "guardian needs to make the request. If you are their parent or guardian, "
            "change “Who the request is for” to “My child” or “Someone I am the legal "
            "guardian of”."
        )
    if relationship == Relationship.PROXY:
        return _("For a patient under 18, only a parent or legal guardian can make the request.")
    return None


class WhoForm(SectionForm):
    required_fields = ("relationship",)
    required_messages = {"relationship": _("Choose who the request is for.")}

    class Meta:
        model = Case
        fields = ["relationship", "patient_name", "authority_attested"]
        widgets = {"relationship": forms.RadioSelect}
        labels = {
            "patient_name": _("The patient's full name"),
            "authority_attested": _(
                "I confirm I have the legal authority to request "
                "medical care and see health information for this "
                "person"
            ),
        }
        help_texts = {"patient_name": _("As it appears on their medical records.")}

    ACTING_FOR = (Relationship.PARENT, Relationship.GUARDIAN, Relationship.PROXY)
    reveals = {
        "patient_name": ("relationship", ACTING_FOR),
        "authority_attested": ("relationship", ACTING_FOR),
    }
    short_labels = {"relationship": _("Who for"), "authority_attested": _("Legal authority")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.case.relationship == Relationship.SELF:
            # Their own name is not the name of the person they might ask for next.
            self.initial["patient_name"] = ""

    def clean(self):
        data = super().clean()
        relationship = data.get("relationship")
        if self.case.submitted_at and relationship and relationship != self.case.relationship:
            self.add_error(
                "relationship",
                _(
                    "You cannot change who the request is for after sending it. Withdraw this "
                    "request and start a new one for the other person."
                ),
            )
        if relationship and relationship != Relationship.SELF:
            self.require("patient_name", _("Enter the name of the person the request is for."))
            self.require(
                "authority_attested",
                _("Confirm that you have the legal authority to act for them."),
            )
        if relationship:
            error = _under_18_error(relationship, self.case.patient_dob, self.today)
            if error:
                self.add_error("relationship", error)
        return data


class AboutForm(SectionForm):
    patient_dob = DateInputField(
        label=_("Date of birth"), date_of_birth=True, help_text=_("For example, 27 3 1980.")
    )
    required_fields = (
        "patient_dob",
        "patient_sex",
        "patient_phone",
        "patient_state",
        "preferred_language",
    )
    required_messages = {
        "patient_dob": _("Enter the patient's date of birth."),
        "patient_sex": _("Choose the patient's sex."),
        "patient_phone": _("Enter a phone number we can call."),
        "patient_state": _("Choose the state where the patient lives."),
        "preferred_language": _("Enter the patient's preferred language."),
    }

    class Meta:
        model = Case
        fields = [
            "patient_dob",
            "patient_sex",
            "patient_phone",
            "patient_state",
            "preferred_language",
            "interpreter_needed",
            "accessibility_needs",
        ]
        widgets = {"patient_sex": forms.RadioSelect}
        help_texts = {
            "patient_phone": _("A coordinator may call about the request."),
            "patient_state": _(
                "Specialists must be licensed in the state where the patient lives."
            ),
            "accessibility_needs": _("For example, step-free access or large-print letters."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient_phone"].widget.attrs.update({"autocomplete": "tel", "type": "tel"})
        if not self.initial.get("preferred_language"):
            self.initial["preferred_language"] = "English"

    def clean_patient_dob(self):
        born = self.cleaned_data.get("patient_dob")
        if born and born > self.today:
            raise forms.ValidationError(_("Date of birth must be in the past."))
        if born and born.year < self.today.year - 125:
            raise forms.ValidationError(_("Check the year of birth."))
        error = _under_18_error(self.case.relationship, born, self.today)
        if error:
            # The page links to the first section, where that is changed.
            self.fix_in_section = "who"
            raise forms.ValidationError(error)
        return born

    def clean_patient_phone(self):
        phone = self.cleaned_data.get("patient_phone", "").strip()
        if phone and len(re.sub(r"\D", "", phone)) < 10:
            raise forms.ValidationError(
                _("Enter a phone number with its area code, like 212 555 0123.")
            )
        return phone


class DiagnosisForm(SectionForm):
    required_fields = ("diagnosis",)
    required_messages = {"diagnosis": _("Describe the diagnosis in your own words.")}
    has_code = forms.BooleanField(label=_("I have a code from my doctor"), required=False)
    icd10 = forms.CharField(
        label=_("The code"),
        required=False,
        max_length=100,
        widget=Icd10Widget,
        help_text=_(
            "It is on some letters from your doctor. Type the code or the name of "
            "the illness and pick it from the list."
        ),
    )
    # The code is shown only after "I have a code"; unticking it clears the
    # code in the browser. A code typed without the tick (no JavaScript) is kept.
    reveals = {"icd10": ("has_code", ("on",))}
    forget_hidden_answers = False
    short_labels = {
        "diagnosis": _("Diagnosis"),
        "icd10": _("Code from your doctor"),
        "diagnosed_on": _("Date"),
        "diagnosing_physician": _("Doctor"),
        "diagnosing_institution": _("Hospital"),
    }

    class Meta:
        model = Case
        fields = [
            "diagnosis",
            "icd10",
            "diagnosed_on",
            "diagnosing_physician",
            "diagnosing_institution",
        ]
        field_classes = {"diagnosed_on": DateInputField}
        help_texts = {"diagnosis": _("Describe it the way your doctor explained it to you.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["icd10"] = self.case.icd10
        self.initial["has_code"] = bool(self.case.icd10_id)

    def clean(self):
        data = super().clean()
        if data.get("has_code") and not data.get("icd10") and "icd10" not in self.errors:
            self.require(
                "icd10",
                _("Enter the code from your doctor, or untick “I have a code from my doctor”."),
            )
        return data

    def clean_icd10(self):
        raw = (self.cleaned_data.get("icd10") or "").strip().upper()
        if not raw:
            return None
        token = raw.split()[0]
        code = token if "." in token or len(token) <= 3 else f"{token[:3]}.{token[3:]}"
        found = Icd10Code.objects.filter(code=code).first()
        if found is None:
            raise forms.ValidationError(
                _(
                    "We could not find the code “%(code)s”. Choose one from the list, or leave it "
                    "blank."
                )
                % {"code": raw[:20]}
            )
        return found

    def clean_diagnosed_on(self):
        day = self.cleaned_data.get("diagnosed_on")
        if day and day > self.today:
            raise forms.ValidationError(_("The date of diagnosis cannot be in the future."))
        if day and self.case.patient_dob and day < self.case.patient_dob:
            raise forms.ValidationError(
                _("The date of diagnosis cannot be before the patient's date of birth.")
            )
        return day


class TreatmentForm(SectionForm):
    short_labels = {
        "proposed_treatment": _("Treatment"),
        "treatment_started": _("Started"),
        "treatment_date": _("Treatment date"),
    }
    treatment_date = DateInputField(
        label=_("Date of surgery or treatment, if one is booked"),
        name=_("the treatment date"),
        required=False,
        help_text=_("If it is within 14 days, we treat your request as urgent."),
    )
    required_fields = ("proposed_treatment", "treatment_started")
    required_messages = {
        "proposed_treatment": _("Describe the treatment the doctors recommended."),
        "treatment_started": _("Tell us whether the treatment has started."),
    }

    class Meta:
        model = Case
        fields = ["proposed_treatment", "treatment_started", "treatment_date"]
        widgets = {"treatment_started": forms.RadioSelect}
        help_texts = {
            "proposed_treatment": _(
                "For example: surgery, chemotherapy, a new medicine, or watchful waiting."
            ),
        }

    def clean_treatment_date(self):
        day = self.cleaned_data.get("treatment_date")
        if day and self.case.patient_dob and day < self.case.patient_dob:
            raise forms.ValidationError(_("The date cannot be before the patient's date of birth."))
        return day


class ReasonsForm(SectionForm):
    short_labels = {"reasons": _("You want to"), "concerns": _("What worries you")}
    required_fields = ("reasons", "concerns")
    required_messages = {
        "reasons": _("Choose at least one reason."),
        "concerns": _("Tell us what worries you most, in your own words."),
    }
    reasons = forms.MultipleChoiceField(
        label=_("What do you want from the second opinion?"),
        choices=Reason.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose all that apply."),
    )
    questions = forms.CharField(
        label=_("Your questions for the specialist"),
        widget=forms.Textarea,
        max_length=MAX_QUESTIONS * (QUESTION_MAX_LENGTH + 2),
        help_text=_(
            "Write one question per line, up to 10. The specialist will answer each one "
            "in the report."
        ),
    )

    class Meta:
        model = Case
        fields = ["reasons", "concerns"]
        labels = {"concerns": _("What worries you most, in your own words")}
        help_texts = {
            "concerns": _(
                "For example: whether surgery is really needed, or the "
                "side effects. The specialist answers this in the report."
            )
        }

    def __init__(self, *args, questions: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["questions"] = "\n".join(questions)
        self.fields["questions"].required = self.complete

    def clean_questions(self) -> list[str]:
        lines = [q.strip() for q in self.cleaned_data.get("questions", "").splitlines()]
        lines = [q for q in lines if q]
        if len(lines) > MAX_QUESTIONS:
            raise forms.ValidationError(_("Please keep to 10 questions: combine or remove some."))
        if any(len(q) > QUESTION_MAX_LENGTH for q in lines):
            raise forms.ValidationError(_("Each question can be up to 500 characters."))
        if self.complete and not lines:
            raise forms.ValidationError(_("Write at least one question for the specialist."))
        return lines


class BackgroundForm(SectionForm):
    short_labels = {"symptoms": _("Symptoms"), "medications": _("Medicines")}
    required_fields = ("symptoms",)
    required_messages = {"symptoms": _("Describe the symptoms, or write “none”.")}

    class Meta:
        model = Case
        fields = ["symptoms", "medications", "allergies", "other_conditions", "previous_treatments"]
        help_texts = {
            "symptoms": _("What you notice, and since when. Write “none” if you have no symptoms."),
            "medications": _("Name, dose and how often, one per line."),
            "allergies": _("To medicines, foods or anything else. Write “none” if you have none."),
        }


SPECIALTY_UNSURE = "unsure"


class SpecialtyChoiceField(forms.ModelChoiceField):
    """The specialties, and "I'm not sure: the care team will choose" (SPECIALTY_UNSURE)."""

    def to_python(self, value):
        return SPECIALTY_UNSURE if value == SPECIALTY_UNSURE else super().to_python(value)


class SpecialistForm(SectionForm):
    short_labels = {
        "specialty": _("Kind of specialist"),
        "consultation_type": _("Type of opinion"),
        "specialist_language": _("Language"),
        "preferred_specialist": _("Specialist you asked for"),
    }
    required_fields = ("specialty", "consultation_type")
    required_messages = {
        "specialty": _("Choose the kind of specialist."),
        "consultation_type": _("Choose the type of opinion you want."),
    }

    class Meta:
        model = Case
        fields = ["specialty", "consultation_type", "specialist_language", "preferred_specialist"]
        widgets = {"consultation_type": forms.RadioSelect}
        field_classes = {"specialty": SpecialtyChoiceField}
        labels = {
            "specialty": _("Which kind of specialist?"),
            "preferred_specialist": _("A specialist you would like (optional)"),
        }
        help_texts = {
            "specialty": _(
                "Not sure? Choose “I'm not sure”: your care team will choose the "
                "right specialist for your diagnosis and tell you."
            ),
            "consultation_type": _("A physical examination needs an in-person visit."),
            "specialist_language": _("Leave blank if English is fine."),
        }

    def __init__(self, *args, preferred: str | None = None, **kwargs):
        """`preferred`: a directory entry's public_id ("Ask for Dr X on my
        request"), shown chosen; nothing is saved until the person saves."""
        super().__init__(*args, **kwargs)
        specialty = self.fields["specialty"]
        specialty.queryset = Specialty.objects.order_by("name")
        specialty.widget.choices = [
            ("", _("Choose the kind of specialist")),
            (SPECIALTY_UNSURE, _("I'm not sure: the care team will choose")),
            # Each name in the reader's language, in that language's order.
            *sorted(((s.pk, str(s)) for s in specialty.queryset), key=lambda c: c[1].casefold()),
        ]
        if self.case.specialty_unsure:
            self.initial["specialty"] = SPECIALTY_UNSURE
        if self.case.status != CaseStatus.DRAFT:
            # After sending, the care team chooses the specialty (with a reason the
            # patient reads, and a check of any open offer): not an answer to amend.
            specialty.disabled = True
            specialty.help_text = _(
                "Your care team checks this choice after you send the "
                "request. To ask for a change, write to them in your "
                "request's messages."
            )
        self.fields["preferred_specialist"].queryset = (
            SpecialistProfile.objects.filter(accepting_cases=True, user__is_active=True)
            .select_related("user")
            .order_by("user__full_name")
        )
        self.fields["preferred_specialist"].label_from_instance = lambda p: (
            f"{p.user.full_name}, {p.title} · {p.institution}"
        )
        self.fields["preferred_specialist"].help_text = format_html(
            '{} <a href="{}">{}</a>',
            _("Your coordinator asks them first when they can."),
            reverse("directory:list"),
            _("Browse our specialists"),
        )
        if preferred and not self.is_bound:
            try:
                chosen = (
                    self.fields["preferred_specialist"].queryset.filter(public_id=preferred).first()
                )
            except forms.ValidationError:  # not a UUID
                chosen = None
            if chosen is not None:
                self.initial["preferred_specialist"] = chosen.pk

    def clean(self):
        data = super().clean()
        if "specialty" in data:
            data["specialty_unsure"] = data["specialty"] == SPECIALTY_UNSURE
            if data["specialty_unsure"]:
                data["specialty"] = None
        return data


class PCPForm(SectionForm):
    short_labels = {
        "pcp_name": _("Doctor"),
        "pcp_email": _("Email"),
        "pcp_phone": _("Phone"),
        "pcp_referred": _("Referred you"),
        "pcp_consent_to_share": _("Send them the report"),
    }
    required_fields = ("pcp_name", "pcp_referred")
    required_messages = {
        "pcp_name": _("Enter your doctor's name, or write “none”."),
        "pcp_referred": _("Tell us whether your doctor referred you."),
    }

    class Meta:
        model = Case
        fields = [
            "pcp_name",
            "pcp_practice",
            "pcp_email",
            "pcp_phone",
            "pcp_referred",
            "pcp_consent_to_share",
        ]
        widgets = {"pcp_referred": forms.RadioSelect}
        labels = {"pcp_consent_to_share": _("Send my primary care physician a copy of the report")}
        help_texts = {
            "pcp_name": _("The doctor you usually see. Write “none” if you do not have one.")
        }

    def clean(self):
        data = super().clean()
        if data.get("pcp_consent_to_share") and not data.get("pcp_email"):
            self.add_error("pcp_email", _("Enter their email address so we can send the report."))
        return data


class InsuranceForm(SectionForm):
    short_labels = {"payment": _("Paying")}
    required_fields = ("payment",)
    required_messages = {"payment": _("Choose how you will pay.")}

    class Meta:
        model = Case
        fields = [
            "payment",
            "insurance_carrier",
            "insurance_plan",
            "insurance_member_id",
            "insurance_group_number",
            "insurance_policyholder",
        ]
        widgets = {"payment": forms.RadioSelect}
        help_texts = {"insurance_policyholder": _("The person whose name is on the card.")}

    reveals = dict.fromkeys(
        (
            "insurance_carrier",
            "insurance_plan",
            "insurance_member_id",
            "insurance_group_number",
            "insurance_policyholder",
        ),
        ("payment", (Payment.INSURANCE,)),
    )

    def clean(self):
        data = super().clean()
        if data.get("payment") == "insurance":
            self.require("insurance_carrier", _("Enter the name of the insurance company."))
            self.require("insurance_member_id", _("Enter the member ID from the card."))
            self.require("insurance_policyholder", _("Enter the policyholder's name."))
        return data


class AuthorisationForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read this authorisation and I agree to it"),
        error_messages={"required": _("Tick the box to show you agree to the authorisation.")},
    )
    signature = forms.CharField(
        label=_("Type your full name to sign"),
        max_length=150,
        error_messages={"required": _("Type your full name to sign.")},
    )

    def __init__(self, *args, case: Case, signer, complete: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.signer = signer
        self.complete = complete
        self.fields["signature"].help_text = _("Type it exactly as: %(name)s") % {
            "name": signer.full_name
        }
        self.fields["signature"].widget.attrs["autocomplete"] = "off"

    def clean_signature(self):
        typed = " ".join(self.cleaned_data["signature"].split())
        if typed.casefold() != " ".join(self.signer.full_name.split()).casefold():
            raise forms.ValidationError(
                _("Type your full name exactly as it is on your account: %(name)s")
                % {"name": self.signer.full_name}
            )
        return typed
