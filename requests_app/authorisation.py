"""The HIPAA authorisation a patient signs, versioned: the version signed is stored."""

from django.utils.translation import gettext_lazy as _

VERSION = "2026-11-01"

TITLE = _("Authorisation to use and disclose health information for a second opinion")

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

PARAGRAPHS = [
    _(
        "I authorise SecondOp, its nurse coordinators and the independent specialist assigned to "
        "my request to receive, use and review the health information I provide or that is "
        "collected for this request, including medical records, test results, imaging, pathology "
        "and notes from my doctors."
    ),
    _(
        "The information will be used only to give a second medical opinion on the condition "
        "described in this request, to arrange any consultation, and to prepare the written "
        "report."
    ),
    _(
        "If I choose to, the written report will be sent to the primary care physician I name. "
        "It will not be shared with anyone else without my further permission, except as "
        "required by law."
    ),
    _(
        "This may include information about mental health, substance use, HIV/AIDS, genetic "
        "testing or sexually transmitted infections if it is in my records."
    ),
    _(
        "I may withdraw this authorisation at any time by withdrawing my request or writing to "
        "SecondOp. Withdrawing does not undo uses made before it."
    ),
    _(
        "My treatment, payment, enrolment or eligibility for benefits does not depend on my "
        "signing this authorisation. Information disclosed under it may no longer be protected "
        "by federal privacy rules once received by a recipient not covered by them."
    ),
    _(
        "This authorisation expires one year after I sign it, or when my request is closed, "
        "whichever is later."
    ),
]
