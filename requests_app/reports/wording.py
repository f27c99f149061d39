"""Every word said about an opinion, in one place: the clinical label (the
choices' own, for the specialist and the PDF) and the patient's plain words."""

import datetime

from django.utils.translation import gettext_lazy as _

from .models import DiagnosisOpinion, ReportVersion, TreatmentOpinion
from .references import evidence_references, trial_url

# A treatment booked this close is named on the patient's page of a differing
# opinion: "Talk to your surgeon or doctor before your treatment on 16 December".
TREATMENT_SOON_DAYS = 30

D, T = DiagnosisOpinion, TreatmentOpinion

DIAGNOSIS_PLAIN = {
    D.AGREES: _("The specialist agrees with your diagnosis."),
    D.REFINED: _("The specialist agrees with your diagnosis and makes it more precise."),
    D.DIFFERENT: _(
        "The specialist thinks your condition is different from the diagnosis you were given."
    ),
    D.UNDETERMINED: _("The specialist cannot say for sure yet: more tests are needed first."),
}

TREATMENT_PLAIN = {
    T.AGREES: _("The specialist agrees with the treatment your doctor proposed."),
    T.CHANGES: _("The specialist suggests some changes to the treatment plan."),
    T.ALTERNATIVE: _("The specialist recommends a different treatment."),
}

# The tag colour of each opinion on the reading pages: agreement is green, a
# change is yellow; nothing is red, because a different opinion is not an alarm.
TONE = {
    D.AGREES: "green",
    D.REFINED: "green",
    D.DIFFERENT: "yellow",
    D.UNDETERMINED: "grey",
}
TREATMENT_TONE = {T.AGREES: "green", T.CHANGES: "yellow", T.ALTERNATIVE: "yellow"}


def opinion_words(version: ReportVersion) -> dict:
    diagnosis, treatment = version.diagnosis_opinion, version.treatment_opinion
    return {
        "diagnosis_label": D(diagnosis).label if diagnosis else "",
        "diagnosis_plain": DIAGNOSIS_PLAIN.get(diagnosis, ""),
        "diagnosis_tone": TONE.get(diagnosis, "grey"),
        "treatment_label": T(treatment).label if treatment else "",
        "treatment_plain": TREATMENT_PLAIN.get(treatment, ""),
        "treatment_tone": TREATMENT_TONE.get(treatment, "grey"),
        "names_diagnosis": bool(version.diagnosis.strip()),
    }


def treatment_soon(treatment_date: datetime.date | None, today: datetime.date) -> bool:
    """The booked surgery or treatment is today or within TREATMENT_SOON_DAYS."""
    return bool(
        treatment_date
        and today <= treatment_date <= today + datetime.timedelta(days=TREATMENT_SOON_DAYS)
    )


def citations(version: ReportVersion) -> dict:
    """The trials to ask about (each with its ClinicalTrials.gov page) and the
    references of the evidence (each with its DOI or PubMed link)."""
    return {
        "trials": [{"id": nct, "url": trial_url(nct)} for nct in version.trial_ids],
        "evidence": evidence_references(version.evidence),
    }


def side_by_side(version: ReportVersion, today: datetime.date) -> dict | None:
    """What the patient's page sets side by side when the opinion differs from
    the first doctor's (None when it does not): the two opinions, the
    specialist's reasons, and the booked treatment's date when it is soon."""
    if not version.differs:
        return None
    case = version.report.case
    soon = treatment_soon(case.treatment_date, today)
    return {
        "first_diagnosis": case.diagnosis,
        "first_treatment": case.proposed_treatment,
        "treatment_date": case.treatment_date if soon else None,
        "days": (case.treatment_date - today).days if soon and case.treatment_date else None,
    }
