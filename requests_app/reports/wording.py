"""Every word said about an opinion, in one place: the clinical label (the
choices' own, for the specialist and the PDF) and the patient's plain words."""

from django.utils.translation import gettext_lazy as _

from .models import DiagnosisOpinion, ReportVersion, TreatmentOpinion

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
