"""The task list: its sections, in order. Each section object owns its
behaviour: the form it shows, how its answers are written to the case (and
any side effect), when it is complete, and how its answers read on the check
page and the case page. Views, services and templates ask the section; none
of them branches on a section's name."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.hashable import make_hashable
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from secondop.audit.context import current_ip
from secondop.timezones import format_local

from . import authorisation
from .forms.sections import (
    AboutForm,
    AuthorisationForm,
    BackgroundForm,
    DiagnosisForm,
    InsuranceForm,
    PCPForm,
    ReasonsForm,
    SpecialistForm,
    TreatmentForm,
    WhoForm,
)
from .models import Case, CaseQuestion, CaseSection, Reason, Relationship, SectionState, Urgency

# Every choice field's labels, per language: fixed words, no one's data. A model's
# get_FOO_display() hashes every choice's lazy label (a translation each, 50 for
# the states) at every call; the staff pages call it many times per request.
_CHOICE_LABELS: dict[tuple[str | None, str], dict] = {}


def choice_label(name: str, value) -> str:
    """What `case.get_<name>_display()` returns, the labels translated once."""
    key = (get_language(), name)
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        field = Case._meta.get_field(name)
        labels = {make_hashable(v): str(label) for v, label in field.flatchoices}
        _CHOICE_LABELS[key] = labels
    return labels.get(make_hashable(value), value)


def display(case: Case, name: str) -> str:
    """One answer as a person reads it: choice labels, dates, Yes/No."""
    field = Case._meta.get_field(name)
    value = getattr(case, name)
    if name == "specialty" and value is None and case.specialty_unsure:
        return str(_("Not sure: the care team will choose"))
    if name == "reasons":
        labels = dict(Reason.choices)
        return ", ".join(str(labels.get(r, r)) for r in value)
    if field.choices and value:
        return choice_label(name, value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        return format_local(value)  # in the reader's zone, named: never the UTC date
    if hasattr(value, "strftime"):
        return date_format(value, "DATE_FORMAT")
    return str(value)


def urgency_for(case: Case, today) -> str:
    """A treatment booked within CASE_URGENT_IF_TREATMENT_WITHIN_DAYS makes it urgent."""
    window = settings.CASE_URGENT_IF_TREATMENT_WITHIN_DAYS
    if case.treatment_date and today <= case.treatment_date <= today + timedelta(days=window):
        return Urgency.URGENT
    return Urgency.ROUTINE


def due_at_for(case: Case):
    days = (
        settings.CASE_TURNAROUND_DAYS_URGENT
        if case.urgency == Urgency.URGENT
        else settings.CASE_TURNAROUND_DAYS_ROUTINE
    )
    return case.submitted_at + timedelta(days=days)


class Section:
    """A task-list section that edits some of the case's own fields."""

    # Shown above the form (a template name), and one button instead of the usual two.
    preamble_template = ""
    action_label = ""

    def __init__(self, key: str, title, form_class: type, intro=""):
        self.key = key
        self.title = title
        self.form_class = form_class
        self.intro = intro

    def __repr__(self) -> str:
        return f"<Section {self.key}>"

    @property
    def fields(self) -> list[str]:
        """The case fields this section writes."""
        return list(self.form_class._meta.fields)

    # --- The form ----------------------------------------------------------------
    def form(self, *, case: Case, actor, data=None, complete: bool = False, questions=()):
        return self.form_class(data, case=case, complete=complete)

    # --- Writing -----------------------------------------------------------------
    def apply(self, case: Case, data: dict, *, actor) -> list[str]:
        """Set this section's answers on `case` (not saved); returns the fields set.
        May write related rows (the caller holds the case's row lock)."""
        names = [name for name in self.fields if name in data]
        for name in names:
            setattr(case, name, data[name])
        return names

    def snapshot(self, case: Case) -> dict:
        """The answers as text, to record what an amendment changed."""
        return {name: display(case, name) for name in self.fields}

    # --- Completeness ------------------------------------------------------------
    def is_complete(self, case: Case) -> bool:
        """Every answer the form requires (SectionForm.required_fields) is given."""
        return all(
            getattr(case, name) not in (None, "", []) for name in self.form_class.required_fields
        )

    # --- Reading -----------------------------------------------------------------
    def label(self, name: str) -> str:
        short = getattr(self.form_class, "short_labels", {}).get(name)
        if short:
            return short
        field = self.form_class.base_fields.get(name)
        if field is not None and field.label:
            return field.label
        return capfirst(Case._meta.get_field(name).verbose_name)

    def applies(self, case: Case, name: str) -> bool:
        """A conditional question (SectionForm.reveals) applies only after its
        choice: no policy number for someone paying themselves."""
        controller, values = getattr(self.form_class, "reveals", {}).get(name, ("", ()))
        if not controller or controller not in self.fields:
            return True
        return getattr(case, controller) in values

    def answers(self, case: Case, questions: list) -> list[tuple]:
        """(label, value) rows for the check page and the case page."""
        return [
            (self.label(name), display(case, name))
            for name in self.fields
            if self.applies(case, name)
        ]


class WhoSection(Section):
    def apply(self, case, data, *, actor):
        before = case.relationship
        names = super().apply(case, data, actor=actor)
        if case.relationship == Relationship.SELF:
            case.patient_name = actor.full_name
            case.authority_attested = False
            names += ["patient_name", "authority_attested"]
        if before and case.relationship != before:
            # Another person: what was given about the last one no longer holds
            # (a parent's name must never stand as the child's).
            if case.relationship != Relationship.SELF and "patient_name" not in data:
                case.patient_name = ""
            case.patient_dob = None
            names += ["patient_name", "patient_dob"]
            CaseSection.objects.filter(case=case, section="about").update(
                state=SectionState.IN_PROGRESS
            )
        return list(dict.fromkeys(names))

    def is_complete(self, case):
        if not case.relationship:
            return False
        if case.relationship == Relationship.SELF:
            return True
        return bool(case.patient_name and case.authority_attested)

    def answers(self, case, questions):
        rows = [(self.label("relationship"), display(case, "relationship"))]
        if case.relationship and case.relationship != Relationship.SELF:
            rows += [
                (self.label("patient_name"), display(case, "patient_name")),
                (self.label("authority_attested"), display(case, "authority_attested")),
            ]
        return rows


class TreatmentSection(Section):
    def apply(self, case, data, *, actor):
        names = super().apply(case, data, actor=actor)
        # After sending, a treatment date that moves within the urgent window
        # makes the request urgent and brings its due date forward (never back).
        if (
            case.submitted_at
            and case.urgency != Urgency.URGENT
            and urgency_for(case, timezone.localdate()) == Urgency.URGENT
        ):
            case.urgency = Urgency.URGENT
            case.due_at = min(case.due_at, due_at_for(case)) if case.due_at else due_at_for(case)
            names += ["urgency", "due_at"]
        return names


class ReasonsSection(Section):
    def form(self, *, case, actor, data=None, complete=False, questions=()):
        return self.form_class(
            data, case=case, complete=complete, questions=[q.text for q in questions]
        )

    def apply(self, case, data, *, actor):
        names = super().apply(case, data, actor=actor)
        if "questions" in data:
            old = list(case.questions.values_list("text", flat=True))
            if data["questions"] != old:
                case.questions.all().delete()
                CaseQuestion.objects.bulk_create(
                    CaseQuestion(case=case, position=i, text=q)
                    for i, q in enumerate(data["questions"], 1)
                )
        return names

    def snapshot(self, case):
        return {
            **super().snapshot(case),
            "questions": list(case.questions.values_list("text", flat=True)),
        }

    def is_complete(self, case):
        return super().is_complete(case) and case.questions.exists()

    def answers(self, case, questions):
        return [
            *super().answers(case, questions),
            (_("Your questions"), [q.text for q in questions]),
        ]


class SpecialistSection(Section):
    def apply(self, case, data, *, actor):
        names = super().apply(case, data, actor=actor)
        if "specialty_unsure" in data:
            case.specialty_unsure = data["specialty_unsure"]
            names.append("specialty_unsure")
        return names

    def is_complete(self, case):
        return bool((case.specialty_id or case.specialty_unsure) and case.consultation_type)


class PCPSection(Section):
    def is_complete(self, case):
        return super().is_complete(case) and (case.pcp_email or not case.pcp_consent_to_share)


class InsuranceSection(Section):
    NEEDED_FOR_INSURANCE = ("insurance_carrier", "insurance_member_id", "insurance_policyholder")

    def is_complete(self, case):
        if not super().is_complete(case):
            return False
        return case.payment != "insurance" or all(
            getattr(case, name) for name in self.NEEDED_FOR_INSURANCE
        )


class AuthorisationSection(Section):
    """A signature, not answers: the version signed, the name typed, when and from where."""

    SIGNED_FIELDS = [
        "authorisation_version",
        "authorisation_signed_name",
        "authorisation_signed_at",
        "authorisation_ip",
        "authorisation_language",
    ]
    preamble_template = "requests_app/includes/authorisation_text.html"
    action_label = _("Sign and save")

    @property
    def fields(self):
        return self.SIGNED_FIELDS

    def form(self, *, case, actor, data=None, complete=False, questions=()):
        return self.form_class(data, case=case, signer=actor)

    def apply(self, case, data, *, actor):
        case.authorisation_version = authorisation.VERSION
        case.authorisation_signed_name = data["signature"]
        case.authorisation_signed_at = timezone.now()
        case.authorisation_ip = current_ip()
        case.authorisation_language = authorisation.reading_language()
        return self.SIGNED_FIELDS

    def is_complete(self, case):
        return bool(
            case.authorisation_signed_at and case.authorisation_version == authorisation.VERSION
        )

    def answers(self, case, questions):
        if not case.authorisation_signed_at:
            return [(_("Signed"), "")]
        return [
            (_("Signed by"), case.authorisation_signed_name),
            # The instant is stored; the reader sees it in their zone, with its date
            # there (in UTC an evening signature would read as the next day).
            (_("Signed on"), format_local(case.authorisation_signed_at)),
            (_("Version"), case.authorisation_version),
            (_("Read in"), authorisation.language_name(case.authorisation_language)),
        ]


SECTIONS: list[Section] = [
    WhoSection("who", _("Who the request is for"), WhoForm),
    Section("about", _("About the patient"), AboutForm),
    Section(
        "diagnosis",
        _("The diagnosis"),
        DiagnosisForm,
        _("Tell us what the patient was diagnosed with, and by whom."),
    ),
    TreatmentSection(
        "treatment",
        _("Proposed treatment"),
        TreatmentForm,
        _("What the doctors have recommended so far."),
    ),
    ReasonsSection("reasons", _("Why you want a second opinion"), ReasonsForm),
    Section(
        "background",
        _("Health background"),
        BackgroundForm,
        _("The specialist will use this to understand the whole picture."),
    ),
    SpecialistSection("specialist", _("Specialist preferences"), SpecialistForm),
    PCPSection(
        "pcp",
        _("Primary care physician"),
        PCPForm,
        _("Your own doctor should see the report. With your permission we send it to them."),
    ),
    InsuranceSection(
        "insurance",
        _("Insurance"),
        InsuranceForm,
        _(
            "A coordinator checks whether your plan covers a second opinion and "
            "tells you before any cost."
        ),
    ),
    AuthorisationSection(
        "authorisation", _("Authorisation to use your records"), AuthorisationForm
    ),
]
SECTIONS_BY_KEY = {s.key: s for s in SECTIONS}


def next_section(after: str, states: dict[str, str]) -> Section | None:
    """ "Save and continue": the next section not yet done, after `after` in
    the task list's order and then from the top; None when all are done."""
    index = next(i for i, s in enumerate(SECTIONS) if s.key == after)
    for section in SECTIONS[index + 1 :] + SECTIONS[:index]:
        if states.get(section.key) != SectionState.COMPLETED:
            return section
    return None


def section_answers(case: Case, questions: list) -> list[tuple]:
    """[(section, [(label, value), ...]), ...] for every section, in order."""
    return [(section, section.answers(case, questions)) for section in SECTIONS]
