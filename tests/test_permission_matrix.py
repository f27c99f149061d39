"""Who gets what from every URL the project serves.

Every URL pattern the resolver knows (ours, allauth's, the Django admin's) has a
row in TABLE: for GET and for POST, the class of response each role must get.
The matrix runs every row as every role and fails on

- a pattern without a row ("add a row for ..."), so no new view escapes it;
- a row no pattern matches any more (a stale row);
- a response of another class than the row says;
- a case answer in any response but the owner's or the coordinator's OK.

Rows hold the rule of DESIGN.md ("Access"), not what the code happens to do:
where the code breaks the rule, the row keeps the rule, the row is listed in
BROKEN with what happens instead, and the matrix fails until the code is fixed.

Each request runs inside a savepoint that is rolled back, with the role's
session cookie put back first, so a POST that withdraws the case or signs the
person out cannot change what the next request sees.
"""

import re
import types
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpResponse
from django.urls import Resolver404, URLResolver, get_resolver, path, resolve, reverse
from django.utils import timezone

from records.models import Bundle, GatherList
from records.retrieval.office_services import link_issue
from requests_app.aftercare.models import FollowUpQuestion, PhysicianQuestion
from requests_app.aftercare.selectors import token_hash
from requests_app.consultations.models import DoctorCall, DoctorCallSlot
from requests_app.icd10.models import Icd10Synonym
from requests_app.models import Price
from requests_app.notices import CASE_UPDATE
from secondop.audit.services import log_access, log_event
from secondop.notifications.models import Notification
from specialists.models import Board, Certification, SpecialistProfile, Specialty
from tests.accounts.factories import UserFactory
from tests.aftercare.factories import delivered_case, sent_share, smart_link
from tests.caregivers.factories import caregiver_grant, caregiver_invitation
from tests.consultations.factories import ConsultationFactory
from tests.records.factories import RecordFactory, RecordRequestFactory
from tests.records.imaging.rendered import study_record
from tests.records.retrieval.factories import SourceFactory
from tests.reports.factories import released_version
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

# --- Outcomes: the classes of response the table speaks in ------------------------------
OK = "OK"  # 2xx
REDIRECT = "REDIRECT"  # 3xx to anywhere but the pages below
LOGIN = "LOGIN"  # 3xx to the sign-in page
MFA = "MFA"  # 3xx to TOTP enrolment (mfa_activate_totp)
REAUTH = "REAUTH"  # 3xx to "confirm it's you" (password or code)
NOT_FOUND = "NOT_FOUND"  # 404
FORBIDDEN = "FORBIDDEN"  # 403
NOT_ALLOWED = "NOT_ALLOWED"  # 405: the wrong method, refused before anything else
BAD_REQUEST = "BAD_REQUEST"  # 400
GONE = "GONE"  # 410: a physician's link withdrawn with the request

ROLES = (
    "anonymous",
    "owner",
    "other_patient",
    "coordinator",
    "specialist",
    "admin",
    "staff_no_mfa",
    "caregiver",
    "caregiver_bare",
)
# Two people the owner invited as caregivers (requests_app.caregivers), to both of
# their requests: "caregiver" may read and write messages, join consultations and
# read the report; "caregiver_bare" only sees the status and timeline. Each is a
# patient's account: where a row does not name them, they get what the other
# patient (a stranger to the case) gets.
CAREGIVERS = ("caregiver", "caregiver_bare")
SIGNED_IN = ("owner", "other_patient", "coordinator", "specialist", "admin", *CAREGIVERS)
ROLE_FIXTURES = {
    "owner": "patient",
    "other_patient": "outsider",
    "coordinator": "coordinator",
    "specialist": "specialist",
    "admin": "admin_user",
    "staff_no_mfa": "staff_without_mfa",
}
# Who may read the case's answers, and then only in an OK response. The specialist
# here is not assigned to the case; administrators never read answers.
PHI_READERS = frozenset({"owner", "coordinator", "caregiver"})
PHI = (
    "Early-stage breast cancer",
    "Whether I really need surgery",
    "212 555 0123",
    "Is surgery my only option?",
)
POST_DATA = {"diagnosis": "forged", "reason": "x", "role": "coordinator"}


# --- Rules: one outcome per role ----------------------------------------------------
def rule(signed_in: str, *, anonymous: str = LOGIN, staff_no_mfa: str = MFA, **roles) -> dict:
    """Every signed-in role gets `signed_in` unless named; anonymous people are sent
    to sign in and staff without an authenticator to enrolment unless named."""
    unknown = set(roles) - set(SIGNED_IN)
    assert not unknown, f"unknown roles {unknown}"
    return {
        "anonymous": anonymous,
        **dict.fromkeys((r for r in SIGNED_IN if r not in CAREGIVERS), signed_in),
        "staff_no_mfa": staff_no_mfa,
        **roles,
    }


def outcome_for(rule_: dict, role: str) -> str:
    """What `role` gets: a caregiver the row does not name gets the other patient's."""
    if role in CAREGIVERS and role not in rule_:
        return rule_["other_patient"]
    return rule_[role]


def mfa_exempt(signed_in: str, *, anonymous: str = LOGIN, **roles) -> dict:
    """The pages staff may use before enrolling: sign out, MFA, re-authenticate,
    password change, email confirmation (StaffMFARequiredMiddleware)."""
    return rule(signed_in, anonymous=anonymous, staff_no_mfa=signed_in, **roles)


PUBLIC = rule(OK, anonymous=OK)
ANON_PAGE = rule(REDIRECT, anonymous=OK)  # sign in, sign up, front page: signed-in people go home
ANY_SIGNED_IN = rule(OK)
ANY_SIGNED_IN_REDIRECT = rule(REDIRECT)  # saves (or has nothing to show) and redirects
WRONG_METHOD = rule(NOT_ALLOWED, anonymous=NOT_ALLOWED)
PATIENT_PAGE = rule(FORBIDDEN, owner=OK, other_patient=OK)
PATIENT_CASE = rule(NOT_FOUND, owner=OK)  # outsiders, staff and admins: 404
STAFF_CASE = rule(NOT_FOUND, coordinator=OK)  # the specialist is not assigned
COORDINATOR_PAGE = rule(FORBIDDEN, coordinator=OK)
SPECIALIST_PAGE = rule(FORBIDDEN, specialist=OK)
ADMIN_ONLY = rule(NOT_FOUND, admin=OK)  # the Django admin: 404 to every other role
ADMIN_REFUSED = ADMIN_ONLY | {"admin": FORBIDDEN}  # what the admin may not do either


@dataclass(frozen=True)
class Row:
    get: dict
    post: dict


def caregiver_may(rule_: dict, outcome: str) -> dict:
    """`rule_`, with the caregiver the patient allowed this part getting `outcome`
    (the one without the right: what a stranger gets, the case's 404)."""
    return {**rule_, "caregiver": outcome}


def same(rule_: dict) -> Row:
    return Row(rule_, rule_)


def admin_model(
    model: str,
    *,
    add: bool = True,
    delete: bool = True,
    delete_post: str = REDIRECT,
    change_post: str = OK,
) -> dict[str, Row]:
    """The six URLs ModelAdmin gives every registered model. `delete_post` and
    `change_post` are what a POST does there: deleted or saved (REDIRECT), the page
    shown again (OK: POST_DATA is not a valid form, or the object is protected)."""
    base, obj = f"admin/{model}/", f"admin/{model}/<path:object_id>/"
    return {
        base: same(ADMIN_ONLY),
        f"{base}add/": same(ADMIN_ONLY if add else ADMIN_REFUSED),
        f"{obj}history/": same(ADMIN_ONLY),
        f"{obj}delete/": (
            Row(ADMIN_ONLY, ADMIN_ONLY | {"admin": delete_post}) if delete else same(ADMIN_REFUSED)
        ),
        f"{obj}change/": Row(ADMIN_ONLY, ADMIN_ONLY | {"admin": change_post}),
        obj: same(ADMIN_ONLY | {"admin": REDIRECT}),  # the old URL, redirected to change/
    }


READ_ONLY = {"add": False, "delete": False, "change_post": FORBIDDEN}

# --- The table: every URL pattern, keyed by its full route -------------------------------
TABLE: dict[str, Row] = {
    # Ours
    "": same(ANON_PAGE),
    "healthz": same(PUBLIC),
    # The mail provider's hook for returned mail: off without its token (the tests set
    # none), so a 404 for everyone, signed in or not; POST only.
    "hooks/mail/bounces": Row(
        rule(NOT_ALLOWED, anonymous=NOT_ALLOWED),
        rule(NOT_FOUND, anonymous=NOT_FOUND),
    ),
    # The language switch on every page, sign-in included: back to the page (POST only).
    "language/": Row(WRONG_METHOD, rule(REDIRECT, anonymous=REDIRECT)),
    "home/": same(ANY_SIGNED_IN_REDIRECT),  # to each role's own home
    # Staff choose their zone (a patient's follows their state); POST_DATA names none: 400.
    "home/time-zone/": Row(
        rule(NOT_FOUND, coordinator=OK, specialist=OK, admin=OK),
        rule(NOT_FOUND, coordinator=BAD_REQUEST, specialist=BAD_REQUEST, admin=BAD_REQUEST),
    ),
    # The browser's zone on a first sign-in: POST only, and POST_DATA names no zone.
    "home/time-zone/browser/": Row(WRONG_METHOD, rule(BAD_REQUEST)),
    "notifications/": same(ANY_SIGNED_IN),
    "notifications/<int:pk>/open/": Row(WRONG_METHOD, rule(NOT_FOUND, owner=REDIRECT)),
    "notifications/read-all/": Row(WRONG_METHOD, ANY_SIGNED_IN_REDIRECT),
    "notifications/preferences/": Row(ANY_SIGNED_IN, ANY_SIGNED_IN_REDIRECT),
    "requests/": same(PATIENT_PAGE),
    "requests/start/": Row(
        WRONG_METHOD, PATIENT_PAGE | {"owner": REDIRECT, "other_patient": REDIRECT}
    ),
    "requests/<uuid:ref>/": same(PATIENT_CASE),
    "requests/<uuid:ref>/section/<slug:key>/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": REDIRECT}
    ),
    # The case is sent: its check page sends the owner back to the case.
    "requests/<uuid:ref>/check/": same(PATIENT_CASE | {"owner": REDIRECT}),
    "requests/<uuid:ref>/submit/": Row(WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}),
    "requests/<uuid:ref>/sent/": Row(PATIENT_CASE, WRONG_METHOD),
    "requests/<uuid:ref>/withdraw/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": REDIRECT}),
    # The fee: POST_DATA does not tick "I understand this fee", so the page comes back.
    "requests/<uuid:ref>/fee/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}),
    # The owner's delivered case's receipt; GET only.
    "requests/<uuid:ref>/receipt.pdf": Row(PATIENT_CASE, WRONG_METHOD),
    # POST only: what a patient types about their health stays out of URLs.
    "requests/icd10/search/": Row(WRONG_METHOD, ANY_SIGNED_IN),
    # Filters are POSTed into the session, then the page is shown again.
    "requests/coordinator/": Row(COORDINATOR_PAGE, COORDINATOR_PAGE | {"coordinator": REDIRECT}),
    "requests/care/<uuid:ref>/": same(STAFF_CASE),
    # POST only; a coordinator is sent back to the case page (or shown it with errors).
    "requests/care/<uuid:ref>/claim/": Row(WRONG_METHOD, STAFF_CASE | {"coordinator": REDIRECT}),
    "requests/care/<uuid:ref>/move/": Row(WRONG_METHOD, STAFF_CASE | {"coordinator": BAD_REQUEST}),
    "requests/care/<uuid:ref>/insurance/": Row(
        WRONG_METHOD, STAFF_CASE | {"coordinator": BAD_REQUEST}
    ),
    "requests/care/<uuid:ref>/fee-waive/": Row(
        WRONG_METHOD, STAFF_CASE | {"coordinator": REDIRECT}
    ),
    # Caregivers (requests_app.caregivers). The patient's own list and invitation form
    # (POST_DATA is no valid invitation: the form again); one caregiver of the owner's,
    # theirs alone (a stranger's 404); the link in an invitation to someone else
    # (refused to every account, 403; anonymous people are asked to sign in or sign up);
    # a followed request's page: its caregivers, whatever they may do besides.
    "caregivers/": Row(
        PATIENT_PAGE,
        PATIENT_PAGE | {"owner": BAD_REQUEST, "other_patient": BAD_REQUEST},
    ),
    "caregivers/<uuid:caregiver_ref>/": Row(
        rule(FORBIDDEN, owner=OK, other_patient=NOT_FOUND),
        rule(FORBIDDEN, owner=BAD_REQUEST, other_patient=NOT_FOUND),
    ),
    "caregivers/<uuid:caregiver_ref>/remove/": Row(
        WRONG_METHOD, rule(FORBIDDEN, owner=REDIRECT, other_patient=NOT_FOUND)
    ),
    "caregivers/accept/<str:token>/": Row(
        rule(FORBIDDEN, anonymous=OK), rule(FORBIDDEN, anonymous=LOGIN)
    ),
    "caregivers/follow/<uuid:ref>/": Row(
        rule(NOT_FOUND, owner=FORBIDDEN, caregiver=OK, caregiver_bare=OK), WRONG_METHOD
    ),
    "specialist/": same(SPECIALIST_PAGE),
    # The specialist's own profile: no URL names a profile, so nobody else's can be reached.
    # A POST of POST_DATA is no valid form: the page is shown again with its errors.
    "specialist/profile/": same(SPECIALIST_PAGE),
    "specialist/profile/edit/": same(SPECIALIST_PAGE),
    "specialist/profile/conditions/": same(SPECIALIST_PAGE),
    "specialist/profile/conditions/remove/": Row(
        WRONG_METHOD, SPECIALIST_PAGE | {"specialist": REDIRECT}
    ),
    "specialist/profile/certifications/": same(SPECIALIST_PAGE),
    "specialist/profile/certifications/remove/": Row(
        WRONG_METHOD, SPECIALIST_PAGE | {"specialist": REDIRECT}
    ),
    "specialist/profile/licences/": same(SPECIALIST_PAGE),
    "specialist/profile/licences/remove/": Row(
        WRONG_METHOD, SPECIALIST_PAGE | {"specialist": REDIRECT}
    ),
    # The specialist holds no licence in the sample state.
    "specialist/profile/licences/<str:state>/": same(SPECIALIST_PAGE | {"specialist": NOT_FOUND}),
    "specialist/profile/leave/": same(SPECIALIST_PAGE),
    "specialist/profile/leave/remove/": Row(
        WRONG_METHOD, SPECIALIST_PAGE | {"specialist": REDIRECT}
    ),
    "specialist/profile/photo/": same(SPECIALIST_PAGE),
    "specialist/profile/photo/remove/": Row(
        WRONG_METHOD, SPECIALIST_PAGE | {"specialist": REDIRECT}
    ),
    # The public directory (GET only). The sample photo name is no one's photo.
    "specialists/": Row(PUBLIC, WRONG_METHOD),
    "specialists/<uuid:public_id>/": Row(PUBLIC, WRONG_METHOD),
    "specialists/photos/<str:filename>": Row(rule(NOT_FOUND, anonymous=NOT_FOUND), WRONG_METHOD),
    # Matching: coordinators only; every other role gets the case's 404.
    "specialist/match/<uuid:ref>/": same(STAFF_CASE),
    "specialist/match/<uuid:ref>/offer/": Row(WRONG_METHOD, STAFF_CASE | {"coordinator": REDIRECT}),
    # Triage's specialty, and holding a case no one can take: coordinators only. The
    # matrix's forged POST is no valid form: shown again with its errors (400).
    "specialist/match/<uuid:ref>/specialty/": Row(
        STAFF_CASE, STAFF_CASE | {"coordinator": BAD_REQUEST}
    ),
    "specialist/match/<uuid:ref>/hold/": Row(
        WRONG_METHOD, STAFF_CASE | {"coordinator": BAD_REQUEST}
    ),
    "specialist/match/<uuid:ref>/hold/end/": Row(
        WRONG_METHOD, STAFF_CASE | {"coordinator": REDIRECT}
    ),
    "specialist/match/<uuid:ref>/tell/": Row(
        WRONG_METHOD, STAFF_CASE | {"coordinator": BAD_REQUEST}
    ),
    # Credentialing: administrators only (a licence id the form lacks: back to the page).
    "credentialing/": same(ADMIN_ONLY),
    "credentialing/verify/": Row(WRONG_METHOD, ADMIN_ONLY | {"admin": REDIRECT}),
    "credentialing/refuse/": Row(WRONG_METHOD, ADMIN_ONLY | {"admin": REDIRECT}),
    # Offers: only the specialist offered the case (the matrix's specialist is not).
    "specialist/offers/<uuid:ref>/": same(rule(NOT_FOUND)),
    "specialist/offers/<uuid:ref>/accept/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    "specialist/offers/<uuid:ref>/decline/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    # Records. The owner's case has no case manager and no specialist yet, so only its
    # owner sees its records: every other role gets the case's 404.
    "records/case/<uuid:ref>/": Row(PATIENT_CASE, WRONG_METHOD),
    # A form POST is no upload request: the owner is told what is wrong (JSON 400).
    "records/case/<uuid:ref>/slots/": Row(WRONG_METHOD, PATIENT_CASE | {"owner": BAD_REQUEST}),
    # Only the case manager or the assigned specialist asks; a patient never does.
    # The patient pastes a SMART Health Link: the owner only (an empty POST: the form again).
    "records/case/<uuid:ref>/smart-link/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}),
    "records/case/<uuid:ref>/ask/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    # The page's own refresh (JSON): the page's rule.
    "records/case/<uuid:ref>/state/": Row(PATIENT_CASE, WRONG_METHOD),
    "records/case/<uuid:ref>/bundle/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    # The owner's pending slot: signing anything but its own key is refused (403).
    "records/files/<uuid:file_ref>/sign/": Row(WRONG_METHOD, rule(NOT_FOUND, owner=FORBIDDEN)),
    # The local upload takes a PUT with its token, from anyone holding one.
    "records/upload/<str:token>/": Row(WRONG_METHOD, WRONG_METHOD),
    "records/<uuid:record_ref>/": Row(PATIENT_CASE, WRONG_METHOD),
    # Confirming a checked record again changes nothing.
    "records/<uuid:record_ref>/confirm/": Row(WRONG_METHOD, PATIENT_CASE),
    # Cancelling a checked record changes nothing (only a pending upload is let go).
    "records/<uuid:record_ref>/cancel/": Row(WRONG_METHOD, PATIENT_CASE),
    "records/<uuid:record_ref>/download/": Row(PATIENT_CASE, WRONG_METHOD),
    "records/<uuid:record_ref>/files/<uuid:file_ref>/download/": Row(PATIENT_CASE, WRONG_METHOD),
    "records/<uuid:record_ref>/thumbnail/": Row(PATIENT_CASE, WRONG_METHOD),
    # The sample record is a single file: it has no series.
    "records/<uuid:record_ref>/series/<int:number>/thumbnail/": Row(rule(NOT_FOUND), WRONG_METHOD),
    "records/<uuid:record_ref>/delete/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": REDIRECT}),
    # Only a refused record leaves the list: the owner is sent back with a message.
    "records/<uuid:record_ref>/dismiss/": Row(WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}),
    # The patient's answer for a study labelled for another person: the owner only (the
    # sample record waits for no answer: the owner is sent back with a message).
    "records/<uuid:record_ref>/identity/": Row(WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}),
    # "Remove it", asked again (the sample waits for no answer: the owner is sent back).
    "records/<uuid:record_ref>/identity/remove/": Row(
        PATIENT_CASE | {"owner": REDIRECT}, PATIENT_CASE | {"owner": REDIRECT}
    ),
    "records/asked/<uuid:request_ref>/withdraw/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    # Bundles are their requester's (a case manager's or specialist's) alone.
    "records/bundles/<uuid:bundle_ref>/": Row(rule(NOT_FOUND), WRONG_METHOD),
    "records/bundles/<uuid:bundle_ref>/download/": Row(rule(NOT_FOUND), WRONG_METHOD),
    # The image viewer (records.imaging): the care team of the case (here its owner
    # alone: no case manager, no specialist yet); everyone else the case's 404.
    "imaging/series/<uuid:series_ref>/": Row(PATIENT_CASE, WRONG_METHOD),
    "imaging/series/<uuid:series_ref>/state/": Row(PATIENT_CASE, WRONG_METHOD),
    # POST_DATA names no preset: the owner is sent back to the viewer with a message.
    "imaging/series/<uuid:series_ref>/preset/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}
    ),
    # A rendered frame: the same check as its page, every time.
    "imaging/series/<uuid:series_ref>/frames/<slug:preset>/<int:size>/<int:index>/": Row(
        PATIENT_CASE, WRONG_METHOD
    ),
    # "Your scans": the patient's own page.
    "imaging/case/<uuid:ref>/scans/": Row(PATIENT_CASE, WRONG_METHOD),
    # Records retrieval: where the records are and the access request to each. The
    # patient and the case manager (the owner's case has none yet): every other role
    # gets the case's 404. POST_DATA is no valid form: the owner sees it again (400).
    "records-requests/case/<uuid:ref>/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}),
    "records-requests/<uuid:source_ref>/": Row(PATIENT_CASE, WRONG_METHOD),
    "records-requests/<uuid:source_ref>/edit/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}
    ),
    # Not asked yet, so the owner may remove it.
    "records-requests/<uuid:source_ref>/remove/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}
    ),
    "records-requests/<uuid:source_ref>/sign/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}
    ),
    "records-requests/<uuid:source_ref>/letter.pdf": Row(PATIENT_CASE, WRONG_METHOD),
    # Sending and the clock are the case manager's: the owner sees the source, not the right.
    "records-requests/<uuid:source_ref>/send/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": FORBIDDEN}
    ),
    "records-requests/<uuid:source_ref>/extend/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": FORBIDDEN}
    ),
    # The records office's upload link: the case manager extends or withdraws it.
    "records-requests/<uuid:source_ref>/link/extend/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": FORBIDDEN}
    ),
    "records-requests/<uuid:source_ref>/link/revoke/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": FORBIDDEN}
    ),
    # The records office's page (a real link): no account, the token is the credential,
    # for everyone who holds it. POST_DATA is no upload (400); a slot or record opened
    # another way is not reachable through it (404).
    "records-requests/from/<str:token>/": Row(rule(OK, anonymous=OK), WRONG_METHOD),
    "records-requests/from/<str:token>/slots/": Row(
        WRONG_METHOD, rule(BAD_REQUEST, anonymous=BAD_REQUEST)
    ),
    "records-requests/from/<str:token>/files/<uuid:file_ref>/sign/": Row(
        WRONG_METHOD, rule(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    "records-requests/from/<str:token>/<uuid:record_ref>/confirm/": Row(
        WRONG_METHOD, rule(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    "records-requests/from/<str:token>/<uuid:record_ref>/cancel/": Row(
        WRONG_METHOD, rule(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    "records-requests/<uuid:source_ref>/received/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": FORBIDDEN}
    ),
    # Reports. The owner's case has a released report and no case manager or specialist,
    # so its owner alone reads it and downloads its PDF; every other role gets a 404.
    "reports/case/<uuid:ref>/": Row(caregiver_may(PATIENT_CASE, OK), WRONG_METHOD),
    # Writing, signing and amending are the assigned specialist's: the patient never
    # sees a draft (a 404, as for everyone else here).
    "reports/case/<uuid:ref>/write/": same(rule(NOT_FOUND)),
    "reports/case/<uuid:ref>/autosave/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    "reports/case/<uuid:ref>/sign/": same(rule(NOT_FOUND)),
    "reports/case/<uuid:ref>/amend/": same(rule(NOT_FOUND)),
    # A third opinion (reports.third_opinion): the matrix's case is not delivered and its
    # opinion agrees, so no one is offered one; it is not a third opinion, so there is
    # nothing to compare or reconcile (a coordinator who does not manage it: 403).
    "reports/case/<uuid:ref>/third-opinion/": same(rule(NOT_FOUND)),
    "reports/case/<uuid:ref>/opinions/": Row(rule(NOT_FOUND), WRONG_METHOD),
    "reports/case/<uuid:ref>/reconcile/": same(rule(NOT_FOUND, coordinator=FORBIDDEN)),
    "reports/versions/<uuid:version_ref>/": Row(caregiver_may(PATIENT_CASE, OK), WRONG_METHOD),
    "reports/versions/<uuid:version_ref>/pdf/": Row(caregiver_may(PATIENT_CASE, OK), WRONG_METHOD),
    # The released version as a FHIR Bundle, for another health system's records: the
    # owner here (a caregiver reads and downloads the PDF, never files it elsewhere).
    "reports/versions/<uuid:version_ref>/fhir/": Row(PATIENT_CASE, WRONG_METHOD),
    # Release and return are the case manager's (the case has none yet).
    "reports/versions/<uuid:version_ref>/release/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    "reports/versions/<uuid:version_ref>/return/": Row(WRONG_METHOD, rule(NOT_FOUND)),
    # Public: anyone checks a PDF with its code. POST_DATA has neither: the form again.
    "reports/verify/": Row(PUBLIC, rule(BAD_REQUEST, anonymous=BAD_REQUEST)),
    # Messages: the patient, the case manager and the assigned specialist. The owner's
    # case has neither yet, so everyone else gets the case's 404; POST_DATA has no
    # message, so the owner is shown the form again with its error.
    "messages/case/<uuid:ref>/": Row(
        caregiver_may(PATIENT_CASE, OK),
        caregiver_may(PATIENT_CASE | {"owner": BAD_REQUEST}, BAD_REQUEST),
    ),
    # Consultations: the patient, the case manager and the assigned specialist. The
    # owner's consultation is booked; its case has neither a case manager nor an assigned
    # specialist, so everyone else gets a 404, and the owner a 403 where only the
    # specialist acts (propose, new times, the outcome). POST_DATA chooses no time and
    # asks for no other times (the form again), but gives a reason to cancel.
    "consultations/case/<uuid:ref>/new/": same(rule(NOT_FOUND, owner=FORBIDDEN)),
    # Declining is the patient's alone; the owner's case asked for a written opinion,
    # so the page says there is nothing to decline and a POST is refused (409).
    "consultations/case/<uuid:ref>/decline/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": "HTTP 409"}
    ),
    "consultations/<uuid:consultation_ref>/": Row(caregiver_may(PATIENT_CASE, OK), WRONG_METHOD),
    "consultations/<uuid:consultation_ref>/choose/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": BAD_REQUEST}
    ),
    "consultations/<uuid:consultation_ref>/other-times/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}
    ),
    "consultations/<uuid:consultation_ref>/times/": same(rule(NOT_FOUND, owner=FORBIDDEN)),
    "consultations/<uuid:consultation_ref>/cancel/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": REDIRECT}
    ),
    "consultations/<uuid:consultation_ref>/outcome/": same(rule(NOT_FOUND, owner=FORBIDDEN)),
    # The interpreter is the case manager's to record (the owner's case has none yet).
    "consultations/<uuid:consultation_ref>/interpreter/": same(rule(NOT_FOUND, owner=FORBIDDEN)),
    "consultations/<uuid:consultation_ref>/calendar.ics": Row(
        caregiver_may(PATIENT_CASE, OK), WRONG_METHOD
    ),
    # A call between the doctors (issue 21), on the owner's delivered case, whose
    # opinion differs and whose call is open (times proposed to their physician): the
    # owner asks from the report (a second while one is open: 409), follows it on their
    # case page (this page is the care team's: a 403), and only the assigned specialist
    # (not the matrix's) proposes and records; everyone else gets the case's 404.
    "consultations/doctor-call/case/<uuid:ref>/ask/": Row(
        PATIENT_CASE, PATIENT_CASE | {"owner": "HTTP 409"}
    ),
    "consultations/doctor-call/<uuid:call_ref>/": Row(
        rule(NOT_FOUND, owner=FORBIDDEN), WRONG_METHOD
    ),
    "consultations/doctor-call/<uuid:call_ref>/times/": Row(
        WRONG_METHOD, rule(NOT_FOUND, owner=FORBIDDEN)
    ),
    "consultations/doctor-call/<uuid:call_ref>/outcome/": Row(
        WRONG_METHOD, rule(NOT_FOUND, owner=FORBIDDEN)
    ),
    # The physician's page for the call (a real token): no account, whoever holds it
    # sees the times; POST_DATA chooses none (the form's 400). Not booked yet, the
    # calendar file sends back to the page.
    "doctor-call/<str:token>/": Row(
        rule(OK, anonymous=OK), rule(BAD_REQUEST, anonymous=BAD_REQUEST)
    ),
    "doctor-call/<str:token>/calendar.ics": Row(rule(REDIRECT, anonymous=REDIRECT), WRONG_METHOD),
    # After delivery (requests_app.aftercare), on the owner's delivered case: the owner
    # sees the form (POST_DATA is no valid one), everyone else gets the case's 404.
    "aftercare/<uuid:ref>/share/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}),
    "aftercare/<uuid:ref>/follow-up/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}),
    # The SMART Health Link to print: POST only; POST_DATA holds no link of the case, so
    # the owner is sent back to the share page with why.
    "aftercare/<uuid:ref>/share/printed/": Row(WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}),
    # Not closed yet: nothing to rate, the owner is sent back to the case.
    "aftercare/<uuid:ref>/rating/": same(PATIENT_CASE | {"owner": REDIRECT}),
    # The link the owner sent their physician (their delivered case): theirs to withdraw.
    "aftercare/shares/<uuid:share_ref>/revoke/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}
    ),
    # The owner takes back their consent that the physician takes part: theirs only.
    "aftercare/shares/<uuid:share_ref>/participation/withdraw/": Row(
        WRONG_METHOD, PATIENT_CASE | {"owner": REDIRECT}
    ),
    # Only the assigned specialist answers (not the matrix's specialist).
    "aftercare/follow-up/<uuid:question_ref>/answer/": same(rule(NOT_FOUND)),
    # The physician's question: the same (the assigned specialist only).
    "aftercare/physician-question/<uuid:question_ref>/answer/": same(rule(NOT_FOUND)),
    # Counts only, no case: coordinators and administrators (the view says why).
    "aftercare/concordance/": Row(rule(FORBIDDEN, coordinator=OK, admin=OK), WRONG_METHOD),
    # Outcomes (requests_app.outcomes). The public figures: counts only, for everyone.
    "outcomes/": Row(PUBLIC, WRONG_METHOD),
    # The owner's delivered case: the SURE questions before are over (sent back to the
    # case), after are open (POST_DATA answers none: the form's 400); the 90-day
    # question is not asked yet (sent back to the case).
    "outcomes/<uuid:ref>/sure/before/": same(PATIENT_CASE | {"owner": REDIRECT}),
    "outcomes/<uuid:ref>/sure/after/": Row(PATIENT_CASE, PATIENT_CASE | {"owner": BAD_REQUEST}),
    "outcomes/<uuid:ref>/treatment/": same(PATIENT_CASE | {"owner": REDIRECT}),
    # The physician's link (a real one): no account, the token is the credential, so
    # whoever holds it reads that one report. Staff without MFA enrol first, as everywhere.
    # Its POST is the physician's one question (the patient consented on this share):
    # POST_DATA holds no question, so everyone gets the form's error.
    "shared/<str:token>/": Row(rule(OK, anonymous=OK), rule(BAD_REQUEST, anonymous=BAD_REQUEST)),
    "shared/<str:token>/pdf/": Row(rule(OK, anonymous=OK), WRONG_METHOD),
    "shared/<str:token>/fhir/": Row(rule(OK, anonymous=OK), WRONG_METHOD),
    # Its SMART Health Link's manifest (a real token): no account, POST only, JSON
    # with a recipient; the matrix's form-encoded POST is no such request.
    "shl/<str:token>": Row(WRONG_METHOD, rule(BAD_REQUEST, anonymous=BAD_REQUEST)),
    # The physician asks for a call through the link: this link's call is open already,
    # so asking again is a double submit, sent back to the page.
    "shared/<str:token>/call/": Row(WRONG_METHOD, rule(REDIRECT, anonymous=REDIRECT)),
    # The physician sends records through the link (the patient consented): the page
    # opens for whoever holds it; the JSON endpoints take JSON (the form-encoded POST
    # is no upload: 400), and the sample record and file are not this link's (404).
    "shared/<str:token>/records/": Row(rule(OK, anonymous=OK), WRONG_METHOD),
    "shared/<str:token>/records/slots/": Row(
        WRONG_METHOD, rule(BAD_REQUEST, anonymous=BAD_REQUEST)
    ),
    "shared/<str:token>/records/files/<uuid:file_ref>/sign/": Row(
        WRONG_METHOD, rule(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    "shared/<str:token>/records/<uuid:record_ref>/confirm/": Row(
        WRONG_METHOD, rule(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    "shared/<str:token>/records/<uuid:record_ref>/cancel/": Row(
        WRONG_METHOD, rule(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    # allauth. force_login records no recent authentication, so the pages that
    # want one send everybody to re-authenticate first.
    "accounts/login/": same(ANON_PAGE),
    "accounts/signup/": same(ANON_PAGE),
    "accounts/logout/": Row(
        mfa_exempt(OK, anonymous=REDIRECT), mfa_exempt(REDIRECT, anonymous=REDIRECT)
    ),
    "accounts/inactive/": Row(PUBLIC, WRONG_METHOD),
    "accounts/reauthenticate/": same(mfa_exempt(OK)),
    "accounts/email/": Row(ANY_SIGNED_IN, ANY_SIGNED_IN_REDIRECT),
    "accounts/confirm-email/": Row(
        mfa_exempt(OK, anonymous=OK), mfa_exempt(NOT_ALLOWED, anonymous=NOT_ALLOWED)
    ),
    "accounts/confirm-email/(?P<key>[-:\\w]+)/$": Row(
        mfa_exempt(OK, anonymous=OK), mfa_exempt(NOT_FOUND, anonymous=NOT_FOUND)
    ),
    "accounts/password/change/": same(mfa_exempt(OK)),
    "accounts/password/set/": same(ANY_SIGNED_IN_REDIRECT),  # they have one: to change
    "accounts/password/reset/": same(PUBLIC),
    "accounts/password/reset/done/": Row(PUBLIC, WRONG_METHOD),
    "accounts/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": same(PUBLIC),
    "accounts/password/reset/key/done/": Row(PUBLIC, WRONG_METHOD),
    "accounts/login/code/confirm/": same(ANY_SIGNED_IN_REDIRECT),  # no code login under way
    "accounts/sessions/": Row(ANY_SIGNED_IN, ANY_SIGNED_IN_REDIRECT),
    "accounts/2fa/": Row(mfa_exempt(OK), mfa_exempt(NOT_ALLOWED)),
    "accounts/2fa/authenticate/": same(mfa_exempt(REDIRECT)),  # no sign-in under way
    # People without an authenticator confirm with their password instead.
    "accounts/2fa/reauthenticate/": same(
        mfa_exempt(OK, owner=REAUTH, other_patient=REAUTH) | {"staff_no_mfa": REAUTH}
    ),
    "accounts/2fa/totp/activate/": same(mfa_exempt(REAUTH)),
    "accounts/2fa/totp/deactivate/": same(
        mfa_exempt(NOT_FOUND, coordinator=REAUTH, specialist=REAUTH, admin=REAUTH)
    ),
    "accounts/2fa/recovery-codes/": Row(mfa_exempt(NOT_FOUND), mfa_exempt(NOT_ALLOWED)),
    "accounts/2fa/recovery-codes/generate/": same(mfa_exempt(REAUTH)),
    "accounts/2fa/recovery-codes/download/": same(mfa_exempt(NOT_FOUND)),
    # The Django admin. Anonymous people go to admin:login, which only redirects to
    # sign in (SecondOpAdminSite.login), so it counts as the sign-in page.
    "admin/": same(ADMIN_ONLY),
    "admin/login/": same(ADMIN_ONLY | {"admin": LOGIN}),
    # Django sends anonymous people from logout to the index (and so to sign in).
    "admin/logout/": Row(
        ADMIN_ONLY | {"anonymous": REDIRECT, "admin": NOT_ALLOWED},
        ADMIN_ONLY | {"anonymous": REDIRECT},
    ),
    # Passwords change through allauth (re-authentication, rate limit, notice).
    "admin/password_change/": same(ADMIN_ONLY | {"admin": REDIRECT}),
    "admin/password_change/done/": Row(ADMIN_ONLY, ADMIN_ONLY | {"admin": NOT_ALLOWED}),
    "admin/autocomplete/": Row(ADMIN_ONLY, ADMIN_ONLY | {"admin": NOT_ALLOWED}),
    "admin/jsi18n/": Row(ADMIN_ONLY, ADMIN_ONLY | {"admin": NOT_ALLOWED}),
    # No registered model has get_absolute_url, so there is no site to view.
    "admin/r/<path:content_type_id>/<path:object_id>/": same(ADMIN_ONLY | {"admin": NOT_FOUND}),
    "admin/(?P<app_label>accounts|audit|notifications|specialists|requests_app|icd10|records)/$": same(
        ADMIN_ONLY
    ),
    "admin/(?P<url>.*)$": same(ADMIN_ONLY | {"admin": NOT_FOUND}),
    "admin/accounts/user/invite/": same(ADMIN_ONLY),
    # Nobody sets another person's password: the view is switched off (404).
    "admin/accounts/user/<id>/password/": same(ADMIN_ONLY | {"admin": NOT_FOUND}),
    **admin_model("accounts/user", add=False, delete=False, change_post=REDIRECT),
    **admin_model("audit/auditevent", **READ_ONLY),
    **admin_model("audit/accesslog", **READ_ONLY),
    **admin_model("notifications/notification", **READ_ONLY),
    **admin_model("requests_app/case", **READ_ONLY),
    **admin_model("icd10/icd10synonym"),
    **admin_model("requests_app/price", delete=False),
    # Certifications are retired (switched off), never deleted.
    **admin_model("specialists/board", delete=False),
    **admin_model("specialists/certification", delete=False),
    # The sent case's specialty is protected: the admin is told it cannot be deleted.
    **admin_model("specialists/specialty", delete_post=OK),
    **admin_model("specialists/specialistprofile"),
    **admin_model("records/gatherlist"),
}

# --- RULES THE CODE BREAKS TODAY --------------------------------------------------------
# These rows above hold the rule, not the code's behaviour, so the matrix fails for
# these roles until the code is fixed; then delete the entry (the matrix says so).
BROKEN: dict[str, tuple[frozenset[str], str]] = {}

# Query strings some views need to do their work (the admin's autocomplete
# refuses a request that names no field).
QUERY = {
    "admin/autocomplete/": "?app_label=specialists&model_name=specialistprofile"
    "&field_name=user&term=Pat",
}


# --- Worlds where the case has ended ------------------------------------------------------
# The same URLs on the owner's two cases (the sent one and the delivered one) after
# they ended. Withdrawal revokes the patient's authorisation: staff get the case's
# 404 (its page says the patient withdrew, and nothing else) everywhere at once.
# Closing: an "other coordinator" (the matrix's, who does not manage the case) loses
# it at once; the case manager and the assigned specialist read it for
# CASE_STAFF_READ_DAYS_AFTER_CLOSE days (tests/requests_app/test_access_ended.py),
# then lose it too ("closed_past_window": the matrix's coordinator and specialist
# are the case's team, and the window is over). Rows are derived from TABLE: every
# route that names a case or something of one answers these staff NOT_FOUND, except
# where the method is refused first (405) or they are sent to sign in or enrol; a
# withdrawn request's physician link answers 410 to whoever holds it. The owner
# keeps their case (their own tests cover what they may still change).
ENDED_WORLDS = ("withdrawn", "closed", "closed_past_window")
ENDED_ROLES = ("coordinator", "specialist", "admin")
CASE_KWARGS = (
    "ref",
    "record_ref",
    "file_ref",
    "request_ref",
    "bundle_ref",
    "version_ref",
    "consultation_ref",
    "question_ref",
    "share_ref",
    "source_ref",
    "series_ref",
    "call_ref",
)
LOSE_THE_CASE = ("coordinator", "specialist")
REFUSED_FIRST = frozenset({NOT_ALLOWED, LOGIN, MFA, REAUTH})


def names_a_case(route: str) -> bool:
    return not route.startswith(("shared/", "admin/")) and any(
        re.search(rf"<(?:\w+:)?{kwarg}>", route) for kwarg in CASE_KWARGS
    )


def ended_rule(route: str, rule_: dict, world_kind: str) -> dict:
    if route.startswith("shared/") and world_kind == "withdrawn":
        # The physician's link is withdrawn with the request (410, "withdrawn"): its
        # question form too, before any form is read.
        return {
            role: GONE if outcome in (OK, BAD_REQUEST, REDIRECT, NOT_FOUND) else outcome
            for role, outcome in rule_.items()
        }
    if route == "shared/<str:token>/records/slots/" and world_kind != "withdrawn":
        # A closed request takes no more records from the physician (409), before the
        # upload itself is read.
        return {
            role: outcome if outcome in REFUSED_FIRST else "HTTP 409"
            for role, outcome in rule_.items()
        }
    if route.startswith("doctor-call/") and world_kind == "withdrawn":
        # The physician's call page obeys their report's link: withdrawn with it (410).
        return {
            role: outcome if outcome in REFUSED_FIRST else GONE for role, outcome in rule_.items()
        }
    if route.startswith("records-requests/from/"):
        # A records office's link stops with its case, whether withdrawn or closed (410).
        return {
            role: outcome if outcome in REFUSED_FIRST else GONE for role, outcome in rule_.items()
        }
    if not names_a_case(route):
        return rule_
    losing = LOSE_THE_CASE + (CAREGIVERS if world_kind == "withdrawn" else ())
    return {
        **rule_,
        **{
            role: outcome_for(rule_, role)
            if outcome_for(rule_, role) in REFUSED_FIRST
            else NOT_FOUND
            for role in losing
        },
    }


def end_the_cases(world: dict, users: dict, how: str) -> None:
    from requests_app.models import Case
    from requests_app.services import case_withdraw

    cases = [world["case"], world["delivered"]]
    if how == "withdrawn":
        case_withdraw(
            actor=world["case"].owner, case_ref=world["case"].uuid, reason="I changed my mind"
        )
        # A delivered request can no longer be withdrawn (requests_app.workflow's
        # WITHDRAWABLE), but the access rule must hold for any withdrawn case, its
        # report and its physician's link too: the case is put in that state as a
        # withdrawal would leave it (the same end-of-case hooks).
        from requests_app.workflow import CASE_END_HOOKS

        delivered = world["delivered"]
        Case.objects.filter(pk=delivered.pk).update(status="withdrawn", closed_at=timezone.now())
        delivered.refresh_from_db()
        for hook in CASE_END_HOOKS:
            hook(delivered, "withdrawn")
        return
    closed_at = timezone.now()
    team = {}
    if how == "closed_past_window":
        closed_at -= timedelta(days=settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE + 1)
        team = {"case_manager": users["coordinator"], "specialist": users["specialist"]}
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        status="closed", closed_at=closed_at, **team
    )


# --- Enumerating the patterns -------------------------------------------------------
def url_patterns() -> dict[str, str | None]:
    """Every URL pattern of ROOT_URLCONF: full route -> namespaced name (or None).
    Routes are joined the way ResolverMatch.route joins them."""
    found: dict[str, str | None] = {}

    def walk(patterns, prefix: str, namespaces: list[str]) -> None:
        for pattern in patterns:
            part = str(pattern.pattern)
            route = prefix + part.removeprefix("^") if prefix else part
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    route,
                    [*namespaces, pattern.namespace] if pattern.namespace else namespaces,
                )
            else:
                found[route] = ":".join([*namespaces, pattern.name]) if pattern.name else None

    walk(get_resolver().url_patterns, "", [])
    return found


def table_problems(table: dict[str, Row] = TABLE) -> list[str]:
    patterns = url_patterns()
    missing = [
        f"add a row for {route!r} (name {name or 'none'}) to TABLE"
        for route, name in patterns.items()
        if route not in table
    ]
    stale = [
        f"stale row {route!r}: no URL pattern has this route any more"
        for route in table
        if route not in patterns
    ]
    stale += [
        f"stale BROKEN entry {route!r}: no such row" for route in BROKEN if route not in table
    ]
    return missing + stale


# --- The world each role meets ---------------------------------------------------------
def build_world(users: dict) -> dict:
    owner, coordinator = users["owner"], users["coordinator"]
    case = CaseFactory(owner=owner, submitted=True)
    notification = Notification.objects.create(
        recipient=owner,
        kind=CASE_UPDATE,
        title="Your request moved on",
        url=reverse("requests_app:case_detail", args=[case.uuid]),
        delivered_at=timezone.now(),
    )
    # One object per model the admin edits, keyed like its admin URL.
    admin_objects = {
        "accounts/user": owner,
        "audit/auditevent": log_event(actor=coordinator, action="matrix.probe", obj=case),
        "audit/accesslog": log_access(viewer=coordinator, obj=case),
        "notifications/notification": notification,
        "requests_app/case": case,
        "icd10/icd10synonym": Icd10Synonym.objects.create(term="lump", clinical="neoplasm"),
        "requests_app/price": Price.objects.create(item="written", amount="750.00"),
        "specialists/specialty": Specialty.objects.get(slug="oncology"),
        "specialists/board": Board.objects.get(slug="abim"),
        "specialists/certification": Certification.objects.get(slug="abim-medical-oncology"),
        "specialists/specialistprofile": SpecialistProfile.objects.create(
            user=users["specialist"], title="MD", institution="Metro General"
        ),
        "records/gatherlist": GatherList.objects.first(),
    }
    record = RecordFactory(case=case)
    record.thumbnail_key = f"{record.prefix}thumbs/first.png"
    record.save()
    default_storage.save(record.thumbnail_key, ContentFile(b"\x89PNG\r\n\x1a\n"))
    slot = RecordFactory(case=case, pending=True)
    _study, (series,) = study_record(
        case, series=[{"modality": "CT", "description": "Chest", "image_count": 2}]
    )
    # A delivered case of the owner's (none of PHI's words), its released report sent to
    # their physician, and a follow-up question: the aftercare URLs.
    delivered = delivered_case(
        owner=owner,
        specialist=UserFactory(role="specialist"),
        diagnosis="Knee pain",
        proposed_treatment="Knee replacement",
        concerns="The recovery",
        patient_phone="",
        report={"answers": ()},
    )
    share, share_token = sent_share(case=delivered, participation=True)
    source = SourceFactory(case=case)  # the owner's, listed, not signed
    office_token = link_issue(source=source, actor=None)
    _shared, _payload, smart_link_token = smart_link(
        case=delivered, email="dr.other@clinic.example"
    )
    question = FollowUpQuestion.objects.create(
        case=delivered, position=1, asked_by=owner, text="How long is the recovery?"
    )
    physician_question = PhysicianQuestion.objects.create(
        share=share, case=delivered, text="Can she drive after the operation?"
    )
    report_version = released_version(case, author=users["specialist"], released_by=coordinator)
    # The call between the doctors on the delivered case, its times sent to the physician.
    doctor_call_token = "matrix-doctor-call-token"
    doctor_call = DoctorCall.objects.create(
        case=delivered,
        share=share,
        specialist=delivered.specialist,
        asked_by="patient",
        status="proposed",
        round=1,
        time_zone="America/New_York",
        token_hash=token_hash(doctor_call_token),
        invite_sent_round=1,
    )
    DoctorCallSlot.objects.create(
        call=doctor_call,
        round=1,
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, minutes=30),
    )
    grants = {
        name: caregiver_grant(
            owner, users[name], [case, delivered], messages=full, consultations=full, report=full
        )
        for name, full in (("caregiver", True), ("caregiver_bare", False))
    }
    # An invitation to someone who has no account here: its link, for the accept URL.
    _invitation, invitation_token = caregiver_invitation(owner, [case])
    return {
        "doctor_call": doctor_call,
        "doctor_call_token": doctor_call_token,
        "caregiver": grants["caregiver"],
        "invitation_token": invitation_token,
        "case": case,
        "report_version": report_version,
        "notification": notification,
        "admin_objects": admin_objects,
        "owner": owner,
        "record": record,
        "series": series,
        "slot": slot,
        "delivered": delivered,
        "share": share,
        "share_token": share_token,
        "office_token": office_token,
        "smart_link_token": smart_link_token,
        "question": question,
        "physician_question": physician_question,
        "consultation": ConsultationFactory(case=case, specialist=UserFactory(role="specialist")),
        "asked": RecordRequestFactory(case=case, requested_by=coordinator),
        "source": source,
        "bundle": Bundle.objects.create(
            case=case, requested_by=coordinator, expires_at=timezone.now() + timedelta(hours=1)
        ),
    }


def sample_values(route: str, world: dict) -> dict[str, str]:
    """A value for each URL kwarg, by name (and, where names clash, by place)."""
    case = world["case"]
    admin_model_label = re.match(r"admin/(\w+/\w+)/<path:object_id>/", route)
    return {
        # the owner's sent case (their delivered one for the aftercare pages)
        "ref": str(
            world["delivered"].uuid
            if route.startswith(("aftercare/", "outcomes/", "consultations/doctor-call/"))
            or route.endswith("receipt.pdf")
            else case.uuid
        ),
        "key": "diagnosis" if route.startswith("requests/") else "MQ:bogus-key",
        "uidb36": "zz",  # allauth's reset link, bogus
        "pk": str(world["notification"].pk),  # the owner's notification
        "id": str(world["owner"].pk),  # the admin's password view
        "object_id": str(
            world["admin_objects"][admin_model_label[1]].pk if admin_model_label else case.pk
        ),  # view_on_site: the case
        "content_type_id": str(ContentType.objects.get_for_model(case).pk),
        "app_label": "requests_app",
        "url": "no-such-page/",  # the admin's catch-all
        "state": "NY",  # a licence the specialist does not hold
        "public_id": str(world["admin_objects"]["specialists/specialistprofile"].public_id),
        "filename": f"{'0' * 32}.jpg",  # a directory photo, bogus
        "record_ref": str(world["record"].uuid),  # the owner's checked record
        "file_ref": str((world["slot"] if "/sign/" in route else world["record"]).files.get().uuid),
        "number": "1",
        # The physician's link opens with a real token; the records upload's is bogus.
        "token": world["share_token"]
        if route.startswith("shared/")
        else world["office_token"]
        if route.startswith("records-requests/from/")
        else world["smart_link_token"]
        if route.startswith("shl/")
        else world["doctor_call_token"]
        if route.startswith("doctor-call/")
        else world["invitation_token"]
        if route.startswith("caregivers/")
        else "bogus-token",
        "call_ref": str(world["doctor_call"].uuid),  # on the owner's delivered case
        "caregiver_ref": str(world["caregiver"].uuid),  # the owner's caregiver
        "share_ref": str(world["share"].uuid),  # the owner's link to their physician
        # the owner's follow-up question, or their physician's question
        "question_ref": str(
            world["physician_question" if "physician-question" in route else "question"].uuid
        ),
        "request_ref": str(world["asked"].uuid),
        "bundle_ref": str(world["bundle"].uuid),
        "version_ref": str(world["report_version"].uuid),  # the owner's released report
        "consultation_ref": str(world["consultation"].uuid),  # the owner's, booked
        "source_ref": str(world["source"].uuid),  # the owner's, listed, not signed
        "series_ref": str(world["series"].uuid),  # a series of the owner's checked CT
        "preset": "stored",
        "size": "512",
        "index": "1",  # its last frame, rendered
    }


def concrete_url(route: str, world: dict) -> str:
    values = sample_values(route, world)

    def value(match: re.Match) -> str:
        if match[1] not in values:
            raise AssertionError(f"add a sample value for URL kwarg {match[1]!r} ({route!r})")
        return values[match[1]]

    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", value, route)  # re_path() named groups
    url = re.sub(r"<(?:\w+:)?(\w+)>", value, url)  # path() converters
    return "/" + url.replace("^", "").replace("$", "")


def classify(response) -> str:
    code = response.status_code
    if 300 <= code < 400:
        target = urlsplit(response["Location"]).path
        if target in (reverse("account_login"), reverse("admin:login")):
            return LOGIN
        if target == reverse("mfa_activate_totp"):
            return MFA
        if target in (reverse("account_reauthenticate"), reverse("mfa_reauthenticate")):
            return REAUTH
        return REDIRECT
    if 200 <= code < 300:
        return OK
    named = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 405: NOT_ALLOWED, 410: GONE}
    return named.get(code, f"HTTP {code}")


# --- The tests ----------------------------------------------------------------------
def test_every_url_pattern_has_a_row_and_every_row_a_pattern():
    problems = table_problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("world_kind", "role"),
    [
        *(("open", role) for role in ROLES),
        *((kind, role) for kind in ENDED_WORLDS for role in ENDED_ROLES),
        # Withdrawal revokes the authorisation: caregivers see nothing either.
        *(("withdrawn", role) for role in CAREGIVERS),
    ],
)
def test_the_permission_matrix(world_kind, role, request, client):
    users = {name: request.getfixturevalue(fixture) for name, fixture in ROLE_FIXTURES.items()}
    users |= {name: UserFactory(role="patient") for name in CAREGIVERS}
    world = build_world(users)
    ended = world_kind != "open"
    if ended:
        end_the_cases(world, users, world_kind)
    phi_readers = {"owner"} if ended else PHI_READERS
    client.raise_request_exception = False  # a crash is one more wrong cell, not the end
    if role != "anonymous":
        client.force_login(users[role])
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)

    failures = []
    for route, name in url_patterns().items():
        row = TABLE.get(route)
        if row is None:
            failures.append(f"add a row for {route!r} (name {name or 'none'}) to TABLE")
            continue
        url = concrete_url(route, world)
        try:
            reached = resolve(url).route
        except Resolver404:
            reached = None
        if reached != route:
            failures.append(f"{route}: the sample URL {url} reaches {reached!r}")
            continue
        broken_roles, broken_note = BROKEN.get(route, (frozenset(), ""))
        if ended:
            row = Row(
                ended_rule(route, row.get, world_kind), ended_rule(route, row.post, world_kind)
            )
            broken_roles = ()
        row_ok = True
        for method, expected in (
            ("GET", outcome_for(row.get, role)),
            ("POST", outcome_for(row.post, role)),
        ):
            client.cookies = SimpleCookie()  # drop what the last request left (messages...)
            if session is not None:
                client.cookies[settings.SESSION_COOKIE_NAME] = session.value
            with transaction.atomic():
                if method == "GET":
                    response = client.get(url + QUERY.get(route, ""))
                else:
                    response = client.post(url + QUERY.get(route, ""), POST_DATA)
                transaction.set_rollback(True)
            actual = classify(response)
            where = f"{method} {url} ({route}) as {role}" + (f" [{world_kind}]" if ended else "")
            if actual != expected:
                row_ok = False
                note = f"  [RULE BROKEN: {broken_note}]" if role in broken_roles else ""
                failures.append(f"{where}: expected {expected}, got {actual}{note}")
            # A form shown again with its errors (400) is the same page as OK.
            shown = {OK, BAD_REQUEST}
            if not (role in phi_readers and expected in shown and actual == expected):
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                ).decode(errors="replace")
                leaked = [text for text in PHI if text in body]
                if leaked:
                    failures.append(f"{where}: the response ({actual}) shows {leaked}")
        if role in broken_roles and row_ok:
            failures.append(f"{route} now follows the rule for {role}: remove it from BROKEN")

    assert not failures, f"{len(failures)} cells differ:\n" + "\n".join(failures)


def _probe(request):
    return HttpResponse("probe")


def test_a_url_without_a_row_and_a_row_without_a_url_are_both_reported(settings):
    from secondop import urls as project_urls

    probe_urls = types.ModuleType("matrix_probe_urls")
    probe_urls.urlpatterns = [
        *project_urls.urlpatterns,
        path("matrix-probe/<slug:thing>/", _probe, name="matrix_probe"),
    ]
    settings.ROOT_URLCONF = probe_urls

    assert table_problems() == [
        "add a row for 'matrix-probe/<slug:thing>/' (name matrix_probe) to TABLE"
    ]
    gone = {**TABLE, "gone/": same(PUBLIC)}
    gone.pop("healthz")
    assert table_problems(gone) == [
        "add a row for 'healthz' (name healthz) to TABLE",
        "add a row for 'matrix-probe/<slug:thing>/' (name matrix_probe) to TABLE",
        "stale row 'gone/': no URL pattern has this route any more",
    ]
