"""Where a case's fee stands, in one place: the staff summary, the patient's
next step, the matching page and the offer service all ask `fee_state`.

Nothing here charges anyone. The coordinator quotes a fee (the insurance
check), the patient confirms it in the app, and matching waits for that
confirmation, or for the case manager's recorded reason to go ahead without it.
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Case, CaseStatus

UNCHECKED = "unchecked"  # no insurance check yet
TO_CONFIRM = "to_confirm"  # quoted; the patient has not confirmed it
CONFIRMED = "confirmed"  # the patient confirmed the fee quoted
WAIVED = "waived"  # the case manager recorded why matching goes ahead without it

STAFF_WORDS = {
    UNCHECKED: gettext_lazy("Not checked yet"),
    TO_CONFIRM: gettext_lazy("Quoted, waiting for the patient to confirm"),
    CONFIRMED: gettext_lazy("Confirmed by the patient"),
    WAIVED: gettext_lazy("Fee step skipped"),
}

# Statuses where the patient is asked to confirm a quoted fee: before a
# specialist is offered the case (after that, a changed quote is still shown,
# but no longer holds anything up).
CONFIRM_BEFORE = frozenset(
    {CaseStatus.SUBMITTED, CaseStatus.TRIAGE, CaseStatus.AWAITING_RECORDS, CaseStatus.MATCHING}
)
RECEIPT_STATES = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED})


def fee_state(case: Case) -> str:
    if case.fee_confirmed_at is not None:
        return CONFIRMED
    if case.fee_waived_at is not None:
        return WAIVED
    if case.insurance_status and case.fee_quoted is not None:
        return TO_CONFIRM
    return UNCHECKED


def patient_must_confirm(case: Case) -> bool:
    """The fee is the patient's next step: quoted, not confirmed, not skipped,
    and no specialist asked yet."""
    return fee_state(case) == TO_CONFIRM and case.status in CONFIRM_BEFORE


def offer_blocker(case: Case) -> str:
    """Why the case cannot be offered to a specialist yet, in words for the
    coordinator ("" when it can)."""
    state = fee_state(case)
    if state == UNCHECKED:
        return _(
            "Check the patient's insurance and quote the fee first, or record why "
            "matching goes ahead without it."
        )
    if state == TO_CONFIRM:
        return _(
            "The patient has not confirmed the fee yet. Matching waits for their "
            "confirmation, or for your reason to go ahead without it."
        )
    return ""


def receipt_available(case: Case) -> bool:
    """An itemised receipt once the report is delivered, if a fee was agreed."""
    return case.status in RECEIPT_STATES and case.fee_quoted is not None


def items_total(items: list[dict]) -> Decimal:
    return sum((Decimal(item["amount"]) for item in items), Decimal("0"))


def money(amount, currency: str = "USD") -> str:
    """ "$450.00 (USD)": the amount with its currency, the way every page shows it."""
    if amount is None:
        return ""
    symbol = {"USD": "$"}.get(currency, "")
    return f"{symbol}{Decimal(amount):,.2f} ({currency})"
