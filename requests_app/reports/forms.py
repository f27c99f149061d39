from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from requests_app.icd10.models import Icd10Code
from requests_app.icd10.widgets import Icd10Widget
from secondop.forms import CharacterCountMixin, character_count

from . import codes, references
from .models import DiagnosisOpinion, ReportVersion, TreatmentOpinion
from .services import TEXT_FIELDS

# The most a verification upload may be: a report is a few hundred kilobytes.
VERIFY_MAX_BYTES = 25 * 1024 * 1024


def _textarea(label, max_length: int, rows: int = 5, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ReportForm(CharacterCountMixin, forms.Form):
    """The specialist's draft. Every field may be left empty while drafting; what
    signing needs is checked when signing (services.signing_problems)."""

    records = forms.MultipleChoiceField(
        label=_("Records you reviewed"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The case's checked records. Tick every one you reviewed: the report lists them."
        ),
    )
    summary = _textarea(_("Clinical summary and findings"), 10000, rows=8)
    diagnosis_opinion = forms.ChoiceField(
        label=_("Your opinion on the diagnosis"),
        required=False,
        widget=forms.RadioSelect,
        choices=DiagnosisOpinion.choices,
    )
    diagnosis = _textarea(
        _("Second-opinion diagnosis"),
        2000,
        rows=3,
        help_text=_("Needed when you agree with a refinement or give a different diagnosis."),
    )
    icd10 = forms.CharField(
        label=_("ICD-10-CM code of your diagnosis (optional)"),
        required=False,
        max_length=100,
        widget=Icd10Widget,
        help_text=_("Start typing the code or the name of the condition and choose from the list."),
    )
    diagnosis_comment = _textarea(_("Reasoning on the diagnosis (optional)"), 5000)
    treatment_opinion = forms.ChoiceField(
        label=_("Your opinion on the treatment plan"),
        required=False,
        widget=forms.RadioSelect,
        choices=TreatmentOpinion.choices,
    )
    recommendations = _textarea(_("Treatment recommendations"), 5000)
    prognosis = _textarea(_("Prognosis"), 5000)
    follow_up = _textarea(_("Recommended further tests or follow-up"), 5000)
    reasons = _textarea(
        _("Why your opinion differs, in plain words"),
        3000,
        rows=5,
        help_text=_(
            "Needed to sign when you give a different diagnosis, cannot tell without more "
            "tests, or suggest changes or an alternative to the treatment. The patient reads "
            "it beside what their first doctor said: write it for them, not for a colleague."
        ),
    )
    trials_note = _textarea(
        _("Clinical trials the patient could ask about (optional)"),
        3000,
        rows=3,
        help_text=_(
            "Which kind of trial, and whom to ask, for example “A trial of proton therapy; "
            "ask your oncologist whether you qualify”."
        ),
    )
    trial_ids = forms.CharField(
        label=_("ClinicalTrials.gov identifiers (optional)"),
        required=False,
        max_length=600,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "characters"}),
        help_text=_(
            "“NCT” and 8 digits, separated by commas or spaces, for example NCT04280705. "
            "Each becomes a link to the trial's page on ClinicalTrials.gov."
        ),
    )
    evidence = _textarea(
        _("Evidence you rely on (optional)"),
        5000,
        rows=4,
        help_text=_(
            "One reference a line, for example a guideline or a study. Add its DOI "
            "(doi:10.1056/NEJMoa2034577) or PMID (PMID: 33301246) and the report links to it."
        ),
    )
    attached_record = forms.ChoiceField(
        label=_("Your own signed report (optional)"),
        required=False,
        help_text=_(
            "If you also wrote the report outside SecondOp, upload the signed PDF with "
            "the case's records (kind “Specialist's signed report”) and name it here."
        ),
    )

    def __init__(self, *args, records, attachable, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = [(str(r.uuid), _record_label(r)) for r in records]
        self.fields["attached_record"].choices = [("", _("None"))] + [
            (str(r.uuid), _record_label(r)) for r in attachable
        ]
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"answer_{question.position}"] = _textarea(
                _("Question %(n)s: %(text)s") % {"n": question.position, "text": question.text},
                5000,
            )
        for question in self.questions:  # added after the mixin ran
            character_count(self.fields[f"answer_{question.position}"])

    @staticmethod
    def initial_for(version: ReportVersion | None) -> dict:
        if version is None:
            return {}
        initial = {field: getattr(version, field) for field in TEXT_FIELDS}
        initial.update(
            {
                "diagnosis_opinion": version.diagnosis_opinion,
                "treatment_opinion": version.treatment_opinion,
                "icd10": version.icd10,
                "trial_ids": ", ".join(version.trial_ids),
                "records": [
                    str(r.record.uuid)
                    for r in version.reviewed.select_related("record")
                    if r.record_id
                ],
                "attached_record": str(version.attached_record.uuid)
                if version.attached_record
                else "",
            }
        )
        initial.update({f"answer_{a.position}": a.answer for a in version.answers.all()})
        return initial

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

    def clean_trial_ids(self):
        try:
            return references.parse_trial_ids(self.cleaned_data.get("trial_ids") or "")
        except references.TrialIdsInvalid as invalid:
            messages = []
            if invalid.bad:
                messages.append(
                    _(
                        "“%(ids)s” is not a ClinicalTrials.gov identifier: write “NCT” and "
                        "8 digits, for example NCT04280705."
                    )
                    % {"ids": ", ".join(token[:20] for token in invalid.bad[:3])}
                )
            if invalid.repeated:
                messages.append(
                    _("%(ids)s is named more than once: name each trial once.")
                    % {"ids": ", ".join(invalid.repeated)}
                )
            raise forms.ValidationError(messages) from None

    def clean_evidence(self):
        evidence = self.cleaned_data.get("evidence") or ""
        problems = references.evidence_problems(evidence)
        if problems:
            raise forms.ValidationError(
                [
                    _(
                        "Reference %(n)s names a DOI we cannot read: write it as "
                        "10.1056/NEJMoa2034577, or take the word “DOI” out."
                    )
                    % {"n": number}
                    if kind == "doi"
                    else _(
                        "Reference %(n)s names a PMID without its number: write it as "
                        "“PMID: 33301246”, or take the word “PMID” out."
                    )
                    % {"n": number}
                    for number, kind in problems
                ]
            )
        return evidence

    def answer_fields(self) -> list:
        return [self[f"answer_{q.position}"] for q in self.questions]

    def service_data(self) -> dict:
        """The cleaned form as the service's plain arguments."""
        data = self.cleaned_data
        return {
            "text": {field: data.get(field, "") for field in TEXT_FIELDS},
            "diagnosis_opinion": data.get("diagnosis_opinion", ""),
            "treatment_opinion": data.get("treatment_opinion", ""),
            "icd10": data.get("icd10"),
            "trial_ids": data.get("trial_ids") or [],
            "records": data.get("records", []),
            "attached_record": data.get("attached_record") or None,
            "answers": {q.position: data.get(f"answer_{q.position}", "") for q in self.questions},
        }


def _record_label(record) -> str:
    parts = [record.title, str(record.get_category_display())]
    if record.service_date:
        parts.append(date_format(record.service_date, "SHORT_DATE_FORMAT"))
    return " · ".join(parts)


class AmendForm(CharacterCountMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the amendment"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The patient and anyone holding the earlier version read this, for example "
            "“The pathology review of the second biopsy arrived”."
        ),
        error_messages={"required": _("Give the reason for the amendment.")},
    )


class ReturnForm(CharacterCountMixin, forms.Form):
    comment = forms.CharField(
        label=_("What should the specialist change?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only the specialist reads this; the patient does not."),
        error_messages={"required": _("Say what the specialist should change.")},
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=20,
        help_text=_(
            "10 letters and numbers, printed at the foot of every page of the report, "
            "for example 7KQ2M-XW9RB."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
                "class": "input-width-10",
            }
        ),
        error_messages={"required": _("Enter the verification code printed on the report.")},
    )
    document = forms.FileField(
        label=_("The report's PDF file"),
        help_text=_("The file is compared with the signed original and not kept."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={
            "required": _("Choose the report's PDF file."),
            "empty": _("The file you chose is empty."),
        },
    )

    def clean_code(self):
        code = codes.normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(
                _(
                    "Enter the code as it is printed: 10 letters and "
                    "numbers, for example 7KQ2M-XW9RB."
                )
            )
        return code

    def clean_document(self):
        document = self.cleaned_data["document"]
        if document.size > VERIFY_MAX_BYTES:
            raise forms.ValidationError(
                _("This file is far larger than a report. Choose the report's PDF.")
            )
        return document


class ThirdOpinionForm(forms.Form):
    """The patient's ask: nothing to fill in but the confirmation of the fee."""

    confirm_fee = forms.BooleanField(
        label=_("I agree to the fee shown for the third opinion"),
        error_messages={"required": _("Tick the box to agree to the fee, or go back.")},
    )


class ReconcileForm(CharacterCountMixin, forms.Form):
    text = forms.CharField(
        label=_("How the opinions compare"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "A few plain sentences the patient reads beside the opinions: where they agree, "
            "where they differ, and what to take to their doctor. No new medical advice."
        ),
        error_messages={"required": _("Write how the opinions compare, in plain words.")},
    )
