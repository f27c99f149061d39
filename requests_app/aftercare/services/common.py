"""What the aftercare services share: their refusal, the double-submit window, and
the patient's own case, locked."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404

from requests_app.access import Relation, case_for_viewer, case_relation
from requests_app.models import Case
from secondop import refusals
from secondop.accounts.models import Role

if TYPE_CHECKING:
    from secondop.accounts.models import User


class AftercareError(refusals.Refusal):
    """A refusal; the message is fit to show the person who asked."""


# The same question or the same address from the same patient within this long is
# a double submit: it returns what the first made (one question counted, one email).
DOUBLE_SUBMIT_WINDOW = datetime.timedelta(minutes=2)


def patient_case(*, actor: User, case_ref: UUID | str) -> Case:
    """The account holder's own case, locked. Anyone else: the case's 404."""
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
    if actor.role != Role.PATIENT or case_relation(actor, case) != Relation.OWNER:
        raise Http404
    return case
