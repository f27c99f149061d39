import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app import services
from requests_app.models import Case, CaseSection, CaseStatus
from requests_app.sections import SECTIONS
from tests.helpers import assert_constant_queries
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _date(name: str, day: datetime.date) -> dict:
    """A date as the three boxes of the date input send it."""
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


def _urls(case):
    return [
        ("get", reverse("requests_app:case_detail", args=[case.uuid])),
        ("get", reverse("requests_app:case_check", args=[case.uuid])),
        ("post", reverse("requests_app:case_submit", args=[case.uuid])),
        ("get", reverse("requests_app:case_withdraw", args=[case.uuid])),
        ("post", reverse("requests_app:case_withdraw", args=[case.uuid])),
        *[("get", reverse("requests_app:case_section", args=[case.uuid, s.key])) for s in SECTIONS],
        *[
            ("post", reverse("requests_app:case_section", args=[case.uuid, s.key]))
            for s in SECTIONS
        ],
    ]


@pytest.mark.parametrize("submitted", [False, True])
def test_an_outsider_gets_404_on_every_case_url(client, patient, outsider, submitted):
    case = CaseFactory(owner=patient, complete=True)
    if submitted:
        services.case_submit(actor=patient, case_ref=case.uuid)
    client.force_login(outsider)
    for method, url in _urls(case):
        assert getattr(client, method)(url, {"reason": "x", "diagnosis": "y"}).status_code == 404, (
            url
        )
    case.refresh_from_db()
    assert case.status == (CaseStatus.SUBMITTED if submitted else CaseStatus.DRAFT)


@pytest.mark.parametrize("who", ["coordinator", "specialist", "admin_user"])
def test_staff_get_404_on_patient_pages(client, request, patient, who):
    case = CaseFactory(owner=patient, submitted=True)
    client.force_login(request.getfixturevalue(who))
    for method, url in _urls(case):
        assert getattr(client, method)(url).status_code == 404, url


def test_an_unknown_section_is_404(client, patient):
    case = CaseFactory(owner=patient, complete=True)
    client.force_login(patient)
    assert client.get(f"/requests/{case.uuid}/section/nope/").status_code == 404


def test_start_creates_a_draft_and_shows_the_task_list(client, patient):
    client.force_login(patient)
    response = client.post(reverse("requests_app:case_start"), follow=True)
    case = Case.objects.get(owner=patient)
    assert case.status == CaseStatus.DRAFT
    html = response.content.decode()
    assert "You have completed 0 of 10 sections" in html
    assert html.count("Not started") == 10
    # Records at intake: sent now, or the places that hold them listed for us to ask.
    assert reverse("records:case_records", args=[case.uuid]) in html
    assert reverse("retrieval:sources", args=[case.uuid]) in html
    sources = client.get(reverse("retrieval:sources", args=[case.uuid]))
    assert sources.status_code == 200


def test_saving_a_section_marks_it_in_progress_or_completed(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    url = reverse("requests_app:case_section", args=[case.uuid, "treatment"])
    client.post(url, {"proposed_treatment": "Surgery", "draft": "1"})
    assert CaseSection.objects.get(case=case, section="treatment").state == "in_progress"
    response = client.post(url, {"proposed_treatment": "Surgery", "complete": "1"})
    assert response.status_code == 200  # "has it started" is needed to complete
    assert "Has it started" in response.content.decode()
    client.post(url, {"proposed_treatment": "Surgery", "treatment_started": "no", "complete": "1"})
    assert CaseSection.objects.get(case=case, section="treatment").state == "completed"


def test_forged_fields_change_nothing(client, patient, outsider):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    client.post(
        reverse("requests_app:case_section", args=[case.uuid, "diagnosis"]),
        {
            "diagnosis": "Asthma",
            "status": "closed",
            "owner": outsider.pk,
            "reference": "SO-2026-999999",
            "due_at": "2030-01-01",
            "urgency": "urgent",
            "draft": "1",
        },
    )
    case.refresh_from_db()
    assert case.diagnosis == "Asthma"
    assert (case.status, case.owner, case.reference, case.due_at, case.urgency) == (
        "draft",
        patient,
        None,
        None,
        "routine",
    )


def test_someone_under_18_asking_for_themselves_is_sent_to_a_parent(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    client.post(
        reverse("requests_app:case_section", args=[case.uuid, "who"]),
        {"relationship": "self", "complete": "1"},
    )
    dob = timezone.localdate() - datetime.timedelta(days=365 * 15)
    response = client.post(
        reverse("requests_app:case_section", args=[case.uuid, "about"]),
        {
            **_date("patient_dob", dob),
            "patient_sex": "female",
            "patient_phone": "212 555 0123",
            "patient_state": "NY",
            "preferred_language": "English",
            "complete": "1",
        },
    )
    html = response.content.decode()
    assert "a parent or legal guardian needs to make the request" in html
    # Told to change the first section in this same account, with a link to it.
    assert reverse("requests_app:case_section", args=[case.uuid, "who"]) in html
    assert "sign up" not in html.lower().split("error-summary")[1][:2000]
    assert 'value="212 555 0123"' in html  # nothing typed is lost
    case.refresh_from_db()
    assert case.patient_dob is None


def test_dates_in_the_future_or_before_birth_are_refused(client, patient):
    client.force_login(patient)
    case = CaseFactory(owner=patient, complete=True)
    url = reverse("requests_app:case_section", args=[case.uuid, "diagnosis"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        url, {"diagnosis": "x", **_date("diagnosed_on", tomorrow), "complete": "1"}
    )
    assert "cannot be in the future" in response.content.decode()
    response = client.post(
        url, {"diagnosis": "x", **_date("diagnosed_on", datetime.date(1960, 1, 1)), "complete": "1"}
    )
    assert "before the patient" in response.content.decode()
    response = client.post(
        reverse("requests_app:case_section", args=[case.uuid, "about"]),
        {**_date("patient_dob", tomorrow), "complete": "1"},
    )
    assert "must be in the past" in response.content.decode()


def test_html_is_shown_escaped(client, patient):
    case = CaseFactory(
        owner=patient, complete=True, diagnosis="<script>alert('x')</script><b>bold</b>"
    )
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_check", args=[case.uuid])).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>bold</b>" not in html


def test_the_check_page_lists_what_is_missing_and_submit_refuses(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(reverse("requests_app:case_check", args=[case.uuid])).content.decode()
    assert "You cannot send the request yet" in html
    assert reverse("requests_app:case_section", args=[case.uuid, "authorisation"]) in html
    response = client.post(reverse("requests_app:case_submit", args=[case.uuid]), follow=True)
    assert "Some sections are not complete" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT


def test_submit_then_the_confirmation_page_then_the_case_page(client, patient):
    client.force_login(patient)
    case = CaseFactory(owner=patient, complete=True)
    response = client.post(reverse("requests_app:case_submit", args=[case.uuid]), follow=True)
    case.refresh_from_db()
    assert response.redirect_chain[-1][0] == reverse("requests_app:case_sent", args=[case.uuid])
    html = response.content.decode()
    assert "Your request is sent" in html and case.reference in html
    assert "What happens next" in html
    due = timezone.localtime(case.due_at).strftime("%-d %B %Y")
    assert f"We expect it by {timezone.localtime(case.due_at):%A} {due}" in html
    assert "You have not sent any yet" in html and "Send your records now" in html
    assert reverse("records:case_records", args=[case.uuid]) in html
    assert "Later: go to my request" in html
    assert reverse("retrieval:sources", args=[case.uuid]) in html
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Received: a nurse coordinator will check it soon" in html
    assert "Report expected by" in html
    assert "What you need to do" in html
    assert "Send your medical records" in html
    # A double click does nothing twice.
    client.post(reverse("requests_app:case_submit", args=[case.uuid]))
    assert case.events.count() == 1


def test_the_confirmation_page_counts_the_records_already_sent(client, patient, outsider):
    from tests.records.factories import RecordFactory

    case = CaseFactory(owner=patient, submitted=True)
    RecordFactory(case=case)
    RecordFactory(case=case, state="scanning")
    url = reverse("requests_app:case_sent", args=[case.uuid])
    client.force_login(patient)
    html = client.get(url).content.decode()
    assert "You have sent records: 1 checked and ready, 1 being checked." in html
    assert "Send more records now" in html and "You have not sent any yet" not in html
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_draft_has_no_confirmation_page(client, patient):
    case = CaseFactory(owner=patient, complete=True)
    client.force_login(patient)
    response = client.get(reverse("requests_app:case_sent", args=[case.uuid]))
    assert response.url == reverse("requests_app:case_detail", args=[case.uuid])


def test_authorisation_needs_the_exact_name_and_stores_version_time_and_ip(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    url = reverse("requests_app:case_section", args=[case.uuid, "authorisation"])
    response = client.post(url, {"agree": "on", "signature": "Someone Else"})
    assert "exactly as it is on your account" in response.content.decode()
    client.post(url, {"agree": "on", "signature": "  pat   PATIENT "}, REMOTE_ADDR="198.51.100.7")
    case.refresh_from_db()
    assert case.authorisation_version and case.authorisation_signed_at
    assert case.authorisation_ip == "198.51.100.7"


def test_the_reasons_section_stores_questions_as_a_list(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    client.post(
        reverse("requests_app:case_section", args=[case.uuid, "reasons"]),
        {
            "reasons": ["peace_of_mind"],
            "concerns": "My children",
            "questions": "Is it cancer?\n\n  Do I need surgery?  ",
            "complete": "1",
        },
    )
    assert list(case.questions.values_list("text", flat=True)) == [
        "Is it cancer?",
        "Do I need surgery?",
    ]


def test_withdraw_from_the_case_page(client, patient):
    client.force_login(patient)
    case = services.case_submit(
        actor=patient, case_ref=CaseFactory(owner=patient, complete=True).uuid
    )
    url = reverse("requests_app:case_withdraw", args=[case.uuid])
    response = client.post(url, {"reason": ""})
    assert "Tell us why you are withdrawing the request" in response.content.decode()
    client.post(url, {"reason": "My doctor answered my questions"})
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert (
        "My doctor answered"
        in client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    )


def test_the_coordinator_sees_new_requests(client, patient, coordinator):
    case = services.case_submit(
        actor=patient, case_ref=CaseFactory(owner=patient, complete=True).uuid
    )
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:coordinator_home")).content.decode()
    assert case.reference in html


# Each page runs only the queries it needs; a change here is a change to weigh.
# Every signed-in page reads the user; the unread count comes from the cache.
# The dashboard's third: each request's open questions and unread messages (messaging);
# then four for what its words depend on (selectors.case_facts: records, requests for
# records, consultations, delivery); and one for the requests they follow as someone's
# caregiver (requests_app.caregivers). case_detail (a draft: the task list) and
# case_check read the price list too.
PAGE_QUERIES = {"dashboard": 7, "case_detail": 4, "case_check": 5, "case_section": 3}


@pytest.mark.parametrize("name", PAGE_QUERIES)
def test_pages_run_a_constant_number_of_queries(client, patient, name):
    client.force_login(patient)
    case = CaseFactory(owner=patient, complete=True)

    def grow(n):  # n questions on the case, n sent requests on the dashboard
        while case.questions.count() < n:
            case.questions.create(position=case.questions.count() + 1, text="A question")
        while Case.objects.filter(owner=patient, reference__isnull=False).count() < n:
            CaseFactory(owner=patient, submitted=True)

    def url_for(n):
        args = {
            "dashboard": [],
            "case_detail": [case.uuid],
            "case_check": [case.uuid],
            "case_section": [case.uuid, "reasons"],
        }[name]
        return reverse(f"requests_app:{name}", args=args)

    assert assert_constant_queries(client, url_for, grow, sizes=(1, 50)) == PAGE_QUERIES[name]


def test_over_long_text_is_refused_with_the_limit_and_kept(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    url = reverse("requests_app:case_section", args=[case.uuid, "diagnosis"])
    long_text = "x" * 3234  # a paste far over the limit is kept whole, never cut
    html = client.post(url, {"diagnosis": long_text, "draft": "1"}).content.decode()
    assert "You have 1,234 characters too many" in html
    assert long_text in html
    assert ' maxlength="2000"' not in html and 'data-maxlength="2000"' in html
    assert "You can enter up to 2,000 characters" in html
    case.refresh_from_db()
    assert case.diagnosis == ""


def test_a_healthcare_proxy_cannot_ask_for_a_child(client, patient):
    client.force_login(patient)
    case = CaseFactory(
        owner=patient,
        complete=True,
        patient_dob=timezone.localdate() - datetime.timedelta(days=400),
    )
    response = client.post(
        reverse("requests_app:case_section", args=[case.uuid, "who"]),
        {
            "relationship": "proxy",
            "patient_name": "Baby Doe",
            "authority_attested": "on",
            "complete": "1",
        },
    )
    assert "only a parent or legal guardian" in response.content.decode()
    client.post(
        reverse("requests_app:case_section", args=[case.uuid, "who"]),
        {
            "relationship": "parent",
            "patient_name": "Baby Doe",
            "authority_attested": "on",
            "complete": "1",
        },
    )
    case.refresh_from_db()
    assert case.relationship == "parent"
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "You are making this request for <strong>Baby Doe</strong>, as their parent." in html


def test_the_timeline_shows_amendments_in_words(client, patient):
    client.force_login(patient)
    case = services.case_submit(
        actor=patient, case_ref=CaseFactory(owner=patient, complete=True).uuid
    )
    client.post(
        reverse("requests_app:case_section", args=[case.uuid, "specialist"]),
        {"specialty": case.specialty.pk, "consultation_type": "video"},
    )
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "changed answers after sending" in html
    assert "Type of opinion: A written opinion and a video consultation" in html


def test_the_case_page_runs_a_constant_number_of_queries_whatever_the_events(
    client, patient, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(patient)
    small = services.case_submit(
        actor=patient, case_ref=CaseFactory(owner=patient, complete=True).uuid
    )
    url = reverse("requests_app:case_detail", args=[small.uuid])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    baseline = len(few.captured_queries)  # read now: each request resets the query log
    assert baseline > 5
    big = services.case_submit(
        actor=patient, case_ref=CaseFactory(owner=patient, complete=True).uuid
    )
    section = reverse("requests_app:case_section", args=[big.uuid, "background"])
    for i in range(6):
        client.post(section, {"symptoms": f"Symptoms, version {i}"})
    for i in range(2, 8):
        big.questions.create(position=i, text=f"Question {i}")
    assert big.amendments.count() == 6
    with django_assert_max_num_queries(baseline):
        client.get(reverse("requests_app:case_detail", args=[big.uuid]))


def test_the_case_page_names_the_accepting_specialist_with_their_specialties(client, patient):
    from tests.specialists.factories import SpecialistFactory

    profile = SpecialistFactory(
        user__full_name="Dr. Helen Marsh", title="MD, PhD", institution="Lakeside Hospital"
    )
    case = CaseFactory(owner=patient, submitted=True, status="in_review", specialist=profile.user)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert (
        f"Dr. Helen Marsh, MD, PhD ({profile.specialties.get().name}, Lakeside Hospital) "
        "has accepted your case."
    ) in html
    assert reverse("directory:detail", args=[profile.public_id]) in html


def test_a_specialist_without_a_profile_is_named_alone(client, patient, specialist):
    case = CaseFactory(owner=patient, submitted=True, status="in_review", specialist=specialist)
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert f"{specialist.full_name} has accepted your case." in html


def test_the_specialist_asked_for_is_shown_in_the_answers_with_one_more_query(client, patient):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.specialists.factories import SpecialistFactory

    profile = SpecialistFactory(user__full_name="Dr. Asked For", title="MD")
    plain = CaseFactory(owner=patient, submitted=True)
    asked = CaseFactory(owner=patient, submitted=True, preferred_specialist=profile)
    client.force_login(patient)
    counts = []
    for case in (plain, asked):
        url = reverse("requests_app:case_detail", args=[case.uuid])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        counts.append(len(queries.captured_queries))
    assert "Dr. Asked For, MD" in html
    assert counts[1] == counts[0] + 1, counts
