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
PARTICIPATION_VERSION = "2026-12-07"
PARTICIPATION_WORDING = _(
    "My doctor may ask the specialist one question about my report. I see the question "
    "and the answer."
)
