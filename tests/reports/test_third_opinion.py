"""Issue 21, item 5: a blinded third opinion. Offered when the second opinion
differs; one per request; matching leaves out the second specialist and the
diagnosing institution; the third specialist reads the records and questions but
not the second report until they sign their own; then the opinions side by side
with the case manager's reconciliation."""

import pytest
from django.core import mail
from django.urls import reverse

from records.selectors import records_for_viewer
from requests_app.models import Case, CaseStatus, PriceItem
from requests_app.reports import third_opinion
from requests_app.reports.models import ReportVersion
from requests_app.services import price_list_seed
from specialists.matching import rank_specialists
from tests.accounts.factories import UserFactory, enrol_totp
from tests.records.factories import RecordFactory
from tests.reports.factories import assigned_case, release, sign
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db

DIFFERENT = {
    "diagnosis_opinion": "different",
    "treatment_opinion": "alternative",
    "text": {
        "summary": "The biopsy reads as a fibroadenoma.",
        "diagnosis": "Fibroadenoma of the left breast",
        "recommendations": "Watchful waiting with an ultrasound in six months.",
        "reasons": "The cells are benign on review; no cancer is seen.",
    },
}


@pytest.fixture(autouse=True)
def prices(db):
    price_list_seed()


@pytest.fixture
def delivered(patient, coordinator, specialist, django_capture_on_commit_callbacks):
    return _delivered(patient, coordinator, specialist, django_capture_on_commit_callbacks)


def _delivered(patient, coordinator, specialist, capture):
    """A request whose released opinion is "a different diagnosis"."""
    case = assigned_case(
        patient, coordinator, specialist, diagnosing_institution="Cheyenne Regional"
    )
    with capture(execute=True):
        sign(case, specialist, **DIFFERENT)
        release(case, coordinator)
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    return case


@pytest.fixture
def third_specialist(db):
    return SpecialistFactory(user__full_name="Dr. Third", institution="Lakeside Clinic").user


def _assign(child, specialist):
    """The third opinion matched and accepted (the offer flow is tested in specialists)."""
    Case.objects.filter(pk=child.pk).update(status=CaseStatus.IN_REVIEW, specialist=specialist)
    child.refresh_from_db()
    return child


def _asked(patient, delivered):
    return third_opinion.third_opinion_request(actor=patient, case_ref=delivered.uuid)


# --- Asking --------------------------------------------------------------------------------------
def test_it_is_not_offered_when_the_opinion_agreed(
    patient, coordinator, specialist, client, django_capture_on_commit_callbacks
):
    case = assigned_case(patient, coordinator, specialist)
    with django_capture_on_commit_callbacks(execute=True):
        sign(case, specialist, diagnosis_opinion="agrees", treatment_opinion="agrees")
        release(case, coordinator)
    case.refresh_from_db()
    assert not third_opinion.third_opinion_offered(viewer=patient, case=case)
    with pytest.raises(third_opinion.ThirdOpinionError):
        third_opinion.third_opinion_request(actor=patient, case_ref=case.uuid)
    client.force_login(patient)
    assert client.get(reverse("reports:third_opinion", args=[case.uuid])).status_code == 404
    page = client.get(reverse("reports:case", args=[case.uuid])).content.decode()
    assert "Ask for a third opinion" not in page
    assert not Case.objects.filter(parent=case).exists()


def test_the_patient_asks_from_their_report_page_and_a_double_request_makes_one(
    patient, delivered, client
):
    client.force_login(patient)
    page = client.get(reverse("reports:case", args=[delivered.uuid])).content.decode()
    assert reverse("reports:third_opinion", args=[delivered.uuid]) in page
    url = reverse("reports:third_opinion", args=[delivered.uuid])
    ask = client.get(url)
    assert ask.status_code == 200 and "$750.00" in ask.content.decode()
    refused = client.post(url, {})
    assert refused.status_code == 400 and "agree to the fee" in refused.content.decode()
    first = client.post(url, {"confirm_fee": "on"})
    second = client.post(url, {"confirm_fee": "on"})
    child = Case.objects.get(parent=delivered)
    assert first.url == second.url == reverse("requests_app:case_detail", args=[child.uuid])
    assert Case.objects.filter(parent=delivered).count() == 1
    assert third_opinion.third_opinion_request(actor=patient, case_ref=delivered.uuid) == child


def test_the_third_opinion_is_a_sent_request_with_the_questions_and_its_price(
    patient, coordinator, delivered
):
    child = _asked(patient, delivered)
    assert child.status == CaseStatus.SUBMITTED and child.reference != delivered.reference
    assert child.owner == patient and child.case_manager == coordinator
    assert child.diagnosing_institution == "Cheyenne Regional"
    assert child.diagnosis == delivered.diagnosis and child.specialist_id is None
    assert [q.text for q in child.questions.all()] == [q.text for q in delivered.questions.all()]
    assert child.fee_items[0]["item"] == PriceItem.THIRD_OPINION
    assert str(child.fee_quoted) == "750.00" and child.fee_confirmed_at is not None
    assert not third_opinion.third_opinion_offered(viewer=patient, case=delivered)


def test_an_outsider_cannot_ask_or_see_it(outsider, patient, delivered, client):
    with pytest.raises(Exception) as refused:
        third_opinion.third_opinion_request(actor=outsider, case_ref=delivered.uuid)
    assert refused.type.__name__ == "Http404"
    child = _asked(patient, delivered)
    client.force_login(outsider)
    for url in (
        reverse("reports:third_opinion", args=[delivered.uuid]),
        reverse("reports:opinions", args=[child.uuid]),
        reverse("reports:reconcile", args=[child.uuid]),
    ):
        assert client.get(url).status_code == 404, url


# --- Matching ------------------------------------------------------------------------------------
def test_matching_leaves_out_the_second_specialist_and_the_diagnosing_institution(
    patient, coordinator, third_specialist, django_capture_on_commit_callbacks
):
    # The second specialist as matching would find them: qualified in every other way.
    specialist = SpecialistFactory(institution="Somewhere Else").user
    delivered = _delivered(patient, coordinator, specialist, django_capture_on_commit_callbacks)
    at_first = SpecialistFactory(institution="Cheyenne Regional Medical Center")
    child = _asked(patient, delivered)
    Case.objects.filter(pk=child.pk).update(status=CaseStatus.MATCHING)
    child.refresh_from_db()
    ranking = rank_specialists(case=child)
    offered = [c.profile.user for c in ranking.candidates]
    assert offered == [third_specialist]
    assert specialist not in offered and at_first.user not in offered
    assert ranking.excluded["earlier"] == 1 and ranking.excluded["institution"] == 1
    # The second request's own matching is unchanged by the rule.
    assert "earlier" not in rank_specialists(case=delivered).excluded


# --- Blinded -------------------------------------------------------------------------------------
def test_the_third_specialist_cannot_read_the_second_report_before_signing(
    patient, coordinator, delivered, third_specialist, client, django_capture_on_commit_callbacks
):
    second = ReportVersion.objects.get(report__case=delivered, status="released")
    child = _assign(_asked(patient, delivered), third_specialist)
    client.force_login(third_specialist)
    blind = [
        reverse("reports:case", args=[delivered.uuid]),
        reverse("reports:version", args=[second.uuid]),
        reverse("reports:pdf", args=[second.uuid]),
        reverse("reports:fhir", args=[second.uuid]),
        reverse("reports:opinions", args=[child.uuid]),
    ]
    for url in blind:
        assert client.get(url).status_code in (403, 404), url
    # Their own request shows the questions, and nothing of the second opinion.
    page = client.get(reverse("requests_app:staff_case", args=[child.uuid])).content.decode()
    assert "Should anything be done first?" in page
    assert DIFFERENT["text"]["reasons"] not in page and "Fibroadenoma" not in page
    # They sign blind (the records are the second request's: tested below) ...
    RecordFactory(case=child, title="Slides re-cut")
    with django_capture_on_commit_callbacks(execute=True):
        sign(child, third_specialist, diagnosis_opinion="agrees", treatment_opinion="agrees")
    # ... then the opinions side by side are theirs to read; the second request's
    # own report pages stay its care team's.
    compare = client.get(reverse("reports:opinions", args=[child.uuid]))
    assert compare.status_code == 200
    assert DIFFERENT["text"]["reasons"] in compare.content.decode()
    assert client.get(reverse("reports:pdf", args=[second.uuid])).status_code in (403, 404)


def test_the_third_specialist_reads_the_records_of_the_request_it_is_on(
    patient, delivered, third_specialist, client
):
    record = delivered.records.get(state="verified")
    child = _assign(_asked(patient, delivered), third_specialist)
    assert record in records_for_viewer(viewer=third_specialist, case=child)
    client.force_login(third_specialist)
    listed = client.get(reverse("records:case_records", args=[child.uuid]))
    assert listed.status_code == 200 and record.title in listed.content.decode()
    # Before they accept (or another specialist): nothing.
    other = SpecialistFactory().user
    assert not records_for_viewer(viewer=other, case=delivered).exists()


def test_the_third_specialist_opens_the_first_requests_images_in_the_viewer(
    patient, delivered, third_specialist, client
):
    from tests.records.imaging.rendered import study_record

    record, (ct, _mr) = study_record(delivered)
    viewer = reverse("imaging:viewer", args=[ct.uuid])
    frame = reverse("imaging:frame", args=[ct.uuid, "stored", 1024, 0])
    client.force_login(third_specialist)
    assert client.get(viewer).status_code == 404  # not theirs yet
    child = _assign(_asked(patient, delivered), third_specialist)
    page = client.get(viewer)
    assert page.status_code == 200 and "CT" in page.content.decode()
    assert client.get(frame).status_code == 200
    # The study's page, from their request's records list, links its images.
    listed = client.get(reverse("records:case_records", args=[child.uuid])).content.decode()
    detail = reverse("records:detail", args=[record.uuid])
    assert detail in listed
    assert viewer in client.get(detail).content.decode()


# --- Reconciliation ------------------------------------------------------------------------------
def _released_third(patient, coordinator, delivered, third_specialist, capture):
    child = _assign(_asked(patient, delivered), third_specialist)
    RecordFactory(case=child, title="Slides re-cut")
    with capture(execute=True):
        sign(child, third_specialist, diagnosis_opinion="refined", treatment_opinion="changes")
        release(child, coordinator)
    child.refresh_from_db()
    return child


def test_the_case_manager_reconciles_and_the_patient_sees_the_three_views(
    patient,
    coordinator,
    delivered,
    third_specialist,
    client,
    django_capture_on_commit_callbacks,
):
    child = _released_third(
        patient, coordinator, delivered, third_specialist, django_capture_on_commit_callbacks
    )
    client.force_login(coordinator)
    staff = client.get(reverse("requests_app:staff_case", args=[child.uuid])).content.decode()
    assert reverse("reports:reconcile", args=[child.uuid]) in staff
    empty = client.post(reverse("reports:reconcile", args=[child.uuid]), {"text": "  "})
    assert empty.status_code == 400
    note = "Two of three specialists see cancer; all advise more tests before surgery."
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(reverse("reports:reconcile", args=[child.uuid]), {"text": note})
    assert saved.status_code == 302
    child.refresh_from_db()
    assert child.reconciliation == note and child.reconciled_by == coordinator
    client.force_login(patient)
    page = client.get(reverse("reports:opinions", args=[child.uuid]))
    body = page.content.decode()
    assert page.status_code == 200 and note in body
    assert "Your first doctor said" in body and "The second opinion" in body
    assert "The third opinion" in body and DIFFERENT["text"]["reasons"] in body
    # The email says there is something to read, and nothing medical.
    sent = [m for m in mail.outbox if m.to == [patient.email]]
    assert sent
    for message in sent:
        text = message.subject + message.body
        for word in ("Fibroadenoma", "cancer", "biopsy", "surgery", delivered.diagnosis):
            assert word.lower() not in text.lower(), word


def test_only_the_case_manager_reconciles(
    patient,
    coordinator,
    delivered,
    third_specialist,
    client,
    django_capture_on_commit_callbacks,
):
    child = _released_third(
        patient, coordinator, delivered, third_specialist, django_capture_on_commit_callbacks
    )
    other = UserFactory(role="coordinator", email="other@example.com")
    enrol_totp(other)
    url = reverse("reports:reconcile", args=[child.uuid])
    for user, status in ((other, 403), (third_specialist, 404), (patient, 404)):
        client.force_login(user)
        assert client.post(url, {"text": "A note."}).status_code == status, user
    child.refresh_from_db()
    assert child.reconciliation == ""


def test_the_patient_does_not_see_the_third_until_it_is_released(
    patient, delivered, third_specialist, client
):
    child = _assign(_asked(patient, delivered), third_specialist)
    client.force_login(patient)
    assert client.get(reverse("reports:opinions", args=[child.uuid])).status_code == 404


def _case_get_urls():
    """Every URL that takes only a case's uuid (`ref`)."""
    from django.urls import get_resolver
    from django.urls.resolvers import URLPattern, URLResolver

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name:
                route = prefix + str(p.pattern)
                if "<uuid:ref>" in route and route.count("<") == 1:
                    yield f"{namespace}:{p.name}" if namespace else p.name

    return sorted(set(walk(get_resolver().url_patterns, "", None)))


def test_the_third_specialist_opens_no_page_of_the_second_request(
    patient, delivered, third_specialist, client
):
    _assign(_asked(patient, delivered), third_specialist)
    client.force_login(third_specialist)
    names = _case_get_urls()
    assert {"reports:case", "requests_app:staff_case", "records:case_records"} <= set(names)
    opened = []
    for name in names:
        response = client.get(reverse(name, args=[delivered.uuid]), follow=True)
        if response.status_code == 200:
            opened.append(name)
    # Its records are read through the third opinion's own pages (tested above).
    assert opened == []


def test_the_staff_concordance_counts_second_opinions_only(
    patient, coordinator, delivered, third_specialist, django_capture_on_commit_callbacks
):
    from requests_app.aftercare.selectors import concordance

    _rows, before = concordance()
    _released_third(
        patient, coordinator, delivered, third_specialist, django_capture_on_commit_callbacks
    )
    _rows, after = concordance()
    assert after.total == before.total == 1  # the second opinion; the third is counted apart
