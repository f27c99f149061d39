"""The price before sending (requests_app.fees and the services, pages and
receipt around it): the price list, the coordinator's check with its items,
the patient's confirmation, matching waiting for it, the itemised receipt."""

import io
from decimal import Decimal

import pypdfium2
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from requests_app import fees, progress, services
from requests_app.models import Case, CaseStatus, Price
from requests_app.workflow import TransitionError
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from specialists import services as offers
from tests.aftercare.factories import delivered_case
from tests.requests_app.factories import CaseFactory
from tests.specialists.factories import SpecialistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prices(db):
    services.price_list_seed()
    return {p.item: p for p in Price.objects.all()}


@pytest.fixture
def case(patient, coordinator):
    """Sent and in triage, managed by the coordinator, no fee step yet."""
    return CaseFactory(
        owner=patient, submitted=True, fee_agreed=False, status="triage", case_manager=coordinator
    )


def _quote(case, coordinator, **kwargs):
    values = {"status": "self_pay", "fee_quoted": None, "items": ["written", "pathology"]}
    return services.case_insurance_check(actor=coordinator, case_ref=case.uuid, **(values | kwargs))


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        return " ".join(" ".join(page.get_textpage().get_text_range().split()) for page in document)
    finally:
        document.close()


# --- The price list ----------------------------------------------------------------------
def test_the_database_refuses_a_negative_or_absurd_price_and_an_unknown_currency(db):
    for fields in (
        {"amount": Decimal("-1")},
        {"amount": Decimal("45000.00")},
        {"amount": Decimal("10"), "currency": "XXX"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Price.objects.create(item="written", **fields)


def test_the_database_refuses_an_absurd_fee_and_a_skipped_step_without_a_reason(case):
    for fields in (
        {"fee_quoted": Decimal("-5")},
        {"fee_quoted": Decimal("99999")},
        {"fee_confirmed_at": "2026-12-01T10:00Z", "fee_quoted": None},
        {"fee_waived_at": "2026-12-01T10:00Z", "fee_waived_reason": ""},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.filter(pk=case.pk).update(**fields)


def test_seeding_the_price_list_is_idempotent_and_keeps_an_admins_edit(db):
    assert services.price_list_seed() == len(services.DEMO_PRICES) == 5
    Price.objects.filter(item="written").update(amount=Decimal("800.00"))
    assert services.price_list_seed() == 0
    assert Price.objects.get(item="written").amount == Decimal("800.00")


def test_the_task_list_and_the_check_page_show_prices_and_what_insurance_pays(
    client, patient, prices
):
    Price.objects.filter(item="imaging").update(active=False)
    draft = CaseFactory(owner=patient, complete=True)
    client.force_login(patient)
    for name in ("case_detail", "case_check"):
        html = client.get(reverse(f"requests_app:{name}", args=[draft.uuid])).content.decode()
        assert "Written opinion with a video consultation" in html
        assert "$950.00 (USD)" in html and "$300.00 (USD)" in html
        assert "Imaging re-read" not in html  # withdrawn from the list
        assert "Some plans pay only if your own doctor refers you." in html
        assert "Nothing is charged in this app." in html


# --- The coordinator's check ---------------------------------------------------------------
def test_the_fee_is_the_total_of_the_items_chosen_with_their_currency(case, coordinator, prices):
    case = _quote(case, coordinator)
    assert case.fee_quoted == Decimal("1050.00") and case.fee_currency == "USD"
    assert [line["item"] for line in case.fee_items] == ["written", "pathology"]
    assert fees.fee_state(case) == fees.TO_CONFIRM


def test_a_covered_case_quotes_what_is_left_to_the_patient(case, coordinator, prices):
    case = _quote(case, coordinator, status="covered", fee_quoted=Decimal("40.00"))
    assert case.fee_quoted == Decimal("40.00") and len(case.fee_items) == 2


def test_a_check_with_neither_fee_nor_items_is_refused_in_words(case, coordinator, client):
    with pytest.raises(TransitionError, match="Enter the fee"):
        _quote(case, coordinator, items=[])
    client.force_login(coordinator)
    response = client.post(
        reverse("requests_app:staff_case_insurance", args=[case.uuid]),
        {"insurance_status": "covered", "insurance_note": "Call us"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the fee the patient pays, or tick the services it is for." in html
    assert "Call us" in html  # nothing typed is lost


def test_an_absurd_fee_is_refused_by_the_form(case, coordinator, client):
    client.force_login(coordinator)
    response = client.post(
        reverse("requests_app:staff_case_insurance", args=[case.uuid]),
        {"insurance_status": "self_pay", "fee_quoted": "45000"},
    )
    assert response.status_code == 400
    assert "cannot be more than 20000" in response.content.decode()


def test_the_coordinator_checks_insurance_with_price_list_items_from_the_page(
    case, coordinator, client, prices
):
    client.force_login(coordinator)
    page = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Pathology slide re-read: $300.00 (USD)" in page
    response = client.post(
        reverse("requests_app:staff_case_insurance", args=[case.uuid]),
        {"insurance_status": "not_covered", "items": ["with_video"]},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.fee_quoted == Decimal("950.00") and case.insurance_status == "not_covered"


def test_a_changed_quote_asks_the_patient_again(case, coordinator, patient, prices):
    _quote(case, coordinator)
    services.case_fee_confirm(actor=patient, case_ref=case.uuid, fee_seen=Decimal("1050.00"))
    _quote(case, coordinator, note="Same fee, a note added")
    assert fees.fee_state(Case.objects.get(pk=case.pk)) == fees.CONFIRMED
    _quote(case, coordinator, items=["written"])
    assert fees.fee_state(Case.objects.get(pk=case.pk)) == fees.TO_CONFIRM


# --- The patient's confirmation --------------------------------------------------------------
def test_the_fee_is_the_patients_next_step_and_a_step_of_the_tracker(case, coordinator, prices):
    case = _quote(case, coordinator)
    facts = progress.CaseFacts(records_checked=1, fee=fees.fee_state(case))
    words = progress.describe(case.status, facts)
    assert words["next_step"] == "Confirm the fee for your second opinion"
    assert words["fee_waiting"]
    assert [(s.label, s.state) for s in words["steps"]][2:4] == [
        ("now: confirm the fee", "current"),
        ("Specialist found", "todo"),
    ]
    matching = progress.describe(CaseStatus.MATCHING, progress.CaseFacts(fee=fees.TO_CONFIRM))
    assert [s.state for s in matching["steps"]][2:4] == ["current", "todo"]
    done = progress.describe(CaseStatus.MATCHING, progress.CaseFacts(fee=fees.CONFIRMED))
    assert ("Fee confirmed", "done") in [(s.label, s.state) for s in done["steps"]]
    assert done["next_step"] != words["next_step"]
    # A question from the care team still comes first.
    assert (
        progress.describe(case.status, progress.CaseFacts(open_questions=1, fee=fees.TO_CONFIRM))[
            "next_step"
        ]
        == "Answer your care team's question"
    )


def test_the_patient_confirms_the_fee_in_the_app_and_the_case_manager_is_told(
    client, case, coordinator, patient, prices
):
    _quote(case, coordinator, note="Your plan does not cover it.")
    client.force_login(patient)
    detail = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert "Confirm the fee for your second opinion" in detail
    assert reverse("requests_app:case_fee", args=[case.uuid]) in detail
    url = reverse("requests_app:case_fee", args=[case.uuid])
    page = client.get(url).content.decode()
    assert "Pathology slide re-read: $300.00 (USD)" in page and "$1,050.00 (USD)" in page
    assert "Your plan does not cover it." in page

    refused = client.post(url, {"fee": "1050.00"})
    assert refused.status_code == 400
    assert "Tick the box to confirm the fee." in refused.content.decode()
    assert client.post(url, {"fee": "1050.00", "agree": "on"}).status_code == 302
    client.post(url, {"fee": "1050.00", "agree": "on"})  # a double click
    case.refresh_from_db()
    assert fees.fee_state(case) == fees.CONFIRMED
    assert AuditEvent.objects.filter(action="requests.case.fee_confirmed").count() == 1
    told = Notification.objects.filter(recipient=coordinator, title__contains="confirmed the fee")
    assert told.count() == 1
    assert "You confirmed this fee on" in client.get(url).content.decode()


def test_a_fee_changed_while_the_patient_read_it_is_not_confirmed(
    client, case, coordinator, patient, prices
):
    _quote(case, coordinator)
    client.force_login(patient)
    url = reverse("requests_app:case_fee", args=[case.uuid])
    _quote(case, coordinator, items=["written"])  # 750.00 now
    response = client.post(url, {"fee": "1050.00", "agree": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The fee has changed since you opened this page." in html
    assert "$750.00 (USD)" in html and 'value="750.00"' in html
    assert fees.fee_state(Case.objects.get(pk=case.pk)) == fees.TO_CONFIRM


def test_nobody_but_the_account_holder_reaches_the_fee_page(
    client, case, coordinator, outsider, specialist, prices
):
    _quote(case, coordinator)
    url = reverse("requests_app:case_fee", args=[case.uuid])
    for person in (outsider, coordinator, specialist):
        client.force_login(person)
        assert client.get(url).status_code == 404
        assert client.post(url, {"fee": "1050.00", "agree": "on"}).status_code == 404
    with pytest.raises(TransitionError):
        services.case_fee_confirm(
            actor=coordinator, case_ref=case.uuid, fee_seen=Decimal("1050.00")
        )
    assert fees.fee_state(Case.objects.get(pk=case.pk)) == fees.TO_CONFIRM


# --- Matching waits for it ------------------------------------------------------------------
def test_matching_refuses_to_offer_until_the_fee_is_confirmed(
    client, case, coordinator, patient, prices
):
    profile = SpecialistFactory()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.MATCHING)
    client.force_login(coordinator)
    match = reverse("specialists:case_match", args=[case.uuid])
    html = client.get(match).content.decode()
    assert "The case cannot be offered yet." in html and "quote the fee first" in html
    assert "Offer to" not in html
    with pytest.raises(offers.OfferError, match="quote the fee first"):
        offers.offer_make(actor=coordinator, case_ref=case.uuid, specialist_id=profile.user_id)

    _quote(case, coordinator)
    assert "has not confirmed the fee yet" in client.get(match).content.decode()
    response = client.post(
        reverse("specialists:case_offer", args=[case.uuid]),
        {"specialist": profile.user_id},
        follow=True,
    )
    assert "has not confirmed the fee yet" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.MATCHING

    services.case_fee_confirm(actor=patient, case_ref=case.uuid, fee_seen=Decimal("1050.00"))
    assert "Offer to" in client.get(match).content.decode()
    offers.offer_make(actor=coordinator, case_ref=case.uuid, specialist_id=profile.user_id)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OFFERED


def test_the_case_manager_can_skip_the_fee_step_with_a_reason_once(client, case, coordinator):
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.MATCHING)
    client.force_login(coordinator)
    url = reverse("requests_app:staff_case_fee_waive", args=[case.uuid])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400
    assert "Say why matching goes ahead" in refused.content.decode()
    assert client.post(url, {"reason": "Charity case: no fee"}).status_code == 302
    client.post(url, {"reason": "A second click"})
    case.refresh_from_db()
    assert fees.fee_state(case) == fees.WAIVED and fees.offer_blocker(case) == ""
    assert case.fee_waived_reason == "Charity case: no fee" and case.fee_waived_by == coordinator
    assert AuditEvent.objects.filter(action="requests.case.fee_waived").count() == 1
    page = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert "Charity case: no fee" in page and "Fee step skipped" in page


def test_only_coordinators_skip_the_fee_step(client, case, patient, outsider, specialist):
    url = reverse("requests_app:staff_case_fee_waive", args=[case.uuid])
    for person in (patient, outsider, specialist):
        client.force_login(person)
        assert client.post(url, {"reason": "Let me through"}).status_code == 404
    assert fees.fee_state(Case.objects.get(pk=case.pk)) == fees.UNCHECKED


# --- The itemised receipt ---------------------------------------------------------------------
@pytest.fixture
def delivered(patient, specialist, prices):
    case = delivered_case(
        owner=patient,
        specialist=specialist,
        insurance_carrier="Aetna",
        insurance_member_id="W123456789",
    )
    Case.objects.filter(pk=case.pk).update(
        insurance_status="covered",
        fee_quoted=Decimal("200.00"),
        fee_items=[
            {
                "item": "with_video",
                "label": "Written opinion with a video consultation",
                "amount": "950.00",
                "currency": "USD",
            },
            {"item": "imaging", "label": "Imaging re-read", "amount": "250.00", "currency": "USD"},
        ],
    )
    return Case.objects.get(pk=case.pk)


def test_after_delivery_the_patient_downloads_an_itemised_receipt(client, delivered, patient):
    client.force_login(patient)
    fee_page = client.get(reverse("requests_app:case_fee", args=[delivered.uuid]))
    assert "Download your itemised receipt (PDF)" in fee_page.content.decode()
    response = client.get(reverse("requests_app:case_receipt", args=[delivered.uuid]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"receipt-{delivered.reference}.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for expected in (
        "Itemised receipt",
        delivered.reference,
        delivered.patient_name,
        "17 May 1970",
        "Aetna",
        "W123456789",
        "Written opinion with a video consultation",
        "$950.00 (USD)",
        "Imaging re-read",
        "$250.00 (USD)",
        "\u2212$1,000.00 (USD)",
        "Fee agreed by the patient",
        "$200.00 (USD)",
        "Covered by insurance",
        "No payment was taken through SecondOp",
    ):
        assert expected in text, expected


def test_no_receipt_before_delivery_nor_for_anyone_else(
    client, delivered, case, patient, outsider, coordinator
):
    client.force_login(patient)
    assert client.get(reverse("requests_app:case_receipt", args=[case.uuid])).status_code == 404
    url = reverse("requests_app:case_receipt", args=[delivered.uuid])
    for person in (outsider, coordinator):
        client.force_login(person)
        assert client.get(url).status_code == 404


def test_the_admin_refuses_a_negative_price_in_words(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:requests_app_price_add"),
        {"item": "written", "amount": "-20", "currency": "USD", "description": "", "active": "on"},
    )
    assert response.status_code == 200
    assert "A price is between 0 and 20,000." in response.content.decode()
    assert not Price.objects.exists()
