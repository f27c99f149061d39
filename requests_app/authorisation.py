"""The HIPAA authorisation a patient signs, versioned: the version signed is stored."""

from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

VERSION = "2026-11-01"


# The same terms in plain words (reading grade 8 or below, checked by
# tests/test_plain_words.py), read first; the legal text above
# is what is signed, folded below the summary.
SUMMARY_TITLE = _("What you agree to")
SUMMARY = [
    _("Our nurses and your specialist may see your health records for this request."),
    _("We use them only to give you a second opinion, to set up a visit, and to write the report."),
    _(
        "We send the report to your own doctor only if you ask us to. No one else gets it "
        "unless the law says we must."
    ),
    _(
        "Your records may include mental health, drug or alcohol use, HIV, genetic tests or "
        "sexual health."
    ),
    _(
        "You can stop this at any time: withdraw your request or write to us. This does not undo "
        "what was done before."
    ),
    _(
        "Your care and your health plan do not depend on signing. Once records leave us, the "
        "privacy law may not protect them."
    ),
    _("This lasts one year, or until your request is closed if that is later."),
]


@dataclass(frozen=True)
class Text:
    """The authorisation's words in one language."""

    title: str
    paragraphs: tuple[str, ...]


# What is signed is the English text of VERSION. A reader of Spanish reads its
# translation, pinned here to the same version (not in the translation catalogue,
# where a wording change would not be a new version), with the English one tap away;
# the signature records which they read (Case.authorisation_language).
ENGLISH = Text(
    title="Authorisation to use and disclose health information for a second opinion",
    paragraphs=(
        "I authorise SecondOp, its nurse coordinators and the independent specialist assigned to "
        "my request to receive, use and review the health information I provide or that is "
        "collected for this request, including medical records, test results, imaging, pathology "
        "and notes from my doctors.",
        "The information will be used only to give a second medical opinion on the condition "
        "described in this request, to arrange any consultation, and to prepare the written "
        "report.",
        "If I choose to, the written report will be sent to the primary care physician I name. "
        "It will not be shared with anyone else without my further permission, except as "
        "required by law.",
        "This may include information about mental health, substance use, HIV/AIDS, genetic "
        "testing or sexually transmitted infections if it is in my records.",
        "I may withdraw this authorisation at any time by withdrawing my request or writing to "
        "SecondOp. Withdrawing does not undo uses made before it.",
        "My treatment, payment, enrolment or eligibility for benefits does not depend on my "
        "signing this authorisation. Information disclosed under it may no longer be protected "
        "by federal privacy rules once received by a recipient not covered by them.",
        "This authorisation expires one year after I sign it, or when my request is closed, "
        "whichever is later.",
    ),
)
TRANSLATIONS = {
    "es": Text(
        title="Autorización para usar y divulgar información de salud para una segunda opinión",
        paragraphs=(
            "Autorizo a SecondOp, a sus enfermeras coordinadoras y al especialista independiente "
            "asignado a mi solicitud a recibir, usar y revisar la información de salud que yo "
            "proporcione o que se reúna para esta solicitud, incluidos expedientes médicos, "
            "resultados de pruebas, imágenes médicas, patología y notas de mis médicos.",
            "La información se usará solo para dar una segunda opinión médica sobre la condición "
            "descrita en esta solicitud, para organizar cualquier consulta y para preparar el "
            "informe escrito.",
            "Si así lo decido, el informe escrito se enviará al médico de atención primaria que "
            "yo nombre. No se compartirá con nadie más sin mi permiso adicional, excepto cuando "
            "lo exija la ley.",
            "Esto puede incluir información sobre salud mental, consumo de sustancias, VIH/SIDA, "
            "pruebas genéticas o infecciones de transmisión sexual, si aparece en mis "
            "expedientes.",
            "Puedo retirar esta autorización en cualquier momento retirando mi solicitud o "
            "escribiendo a SecondOp. Retirarla no deshace los usos hechos antes.",
            "Mi tratamiento, mi pago, mi inscripción o mi elegibilidad para beneficios no "
            "dependen de que yo firme esta autorización. Es posible que la información divulgada "
            "bajo esta autorización ya no esté protegida por las normas federales de privacidad "
            "una vez que la reciba alguien que no esté sujeto a ellas.",
            "Esta autorización vence un año después de que yo la firme, o cuando se cierre mi "
            "solicitud, lo que ocurra más tarde.",
        ),
    ),
}
# The names the rest of the code reads: the English text is the one signed.
TITLE = ENGLISH.title
PARAGRAPHS = ENGLISH.paragraphs


def reading_language(language: str | None = None) -> str:
    """The language the authorisation is read in: the page's, when there is a
    translation of this version in it, else English."""
    code = language or get_language() or "en"
    code = code.split("-")[0]
    return code if code in TRANSLATIONS else "en"


def language_name(language: str) -> str:
    """What the signer read: "English", or "Spanish (a translation of the English text)"."""
    if language in TRANSLATIONS:
        return _("%(language)s (a translation of the English text signed)") % {
            "language": _LANGUAGE_NAMES[language]
        }
    return str(_("English"))


_LANGUAGE_NAMES = {"es": _("Spanish")}


def text_in(language: str) -> Text:
    return TRANSLATIONS.get(language, ENGLISH)
