"""What the patient agrees to when they send their report to a physician,
versioned: the version ticked is stored on the share, with the time."""

from django.utils.translation import gettext_lazy as _

VERSION = "2026-12-01"

# The tick box's label: the whole of what is agreed to, in one sentence a person
# can read before ticking.
WORDING = _(
    "I agree that SecondOp sends a link to my second-opinion report to the email address "
    "above. Whoever opens the link can read and download the report, which names me and "
    "describes my health, until the link expires or I withdraw it."
)

# The second tick box on the share form: the physician may take part in the case
# (issue 21). Optional; the patient may withdraw it later from their share page.
PARTICIPATION_VERSION = "2026-12-08"
PARTICIPATION_WORDING = _(
    "My doctor may ask the specialist one question about my report, send records for my "
    "request, and ask for a call with the specialist. I see everything they do."
)

# What each version of the wording let the physician do: a share consented to under
# an older wording allows only what that wording said.
QUESTION, RECORDS, CALL = "question", "records", "call"
PARTICIPATION_COVERS = {
    "2026-12-07": frozenset({QUESTION}),
    "2026-12-08": frozenset({QUESTION, RECORDS, CALL}),
}
