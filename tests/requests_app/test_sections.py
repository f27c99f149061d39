"""The task list's sections as a patient goes through them: "Save and continue"
goes to the next section not yet done; questions that apply only after a
choice (conditional reveals) are shown, kept and listed only then; the
diagnosis code waits behind "I have a code from my doctor"; the authorisation
reads as a plain summary first; the check page leaves out what was not asked."""

import re

import pytest
from django.urls import reverse

from bench.pagetext import visible_text
from requests_app import authorisation, services
from requests_app.models import CaseSection, SectionState
from requests_app.sections import SECTIONS, next_section
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _url(case, key):
    return reverse("requests_app:case_section", args=[case.uuid, key])


def test_it_names_the_next_section_not_done_then_none():
    keys = [s.key for s in SECTIONS]
    assert next_section("who", {}).key == "about"
    done = dict.fromkeys(keys[:4], SectionState.COMPLETED)
    assert next_section("who", done).key == keys[4]
    # After the last one it starts again from the top.
    gap = {k: SectionState.COMPLETED for k in keys if k != "about"}
    assert next_section("authorisation", gap).key == "about"
    assert next_section("pcp", dict.fromkeys(keys, SectionState.COMPLETED)) is None


def test_save_and_continue_goes_to_the_next_section_not_yet_done(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    CaseSection.objects.create(case=case, section="about", state=SectionState.COMPLETED)
    response = client.post(_url(case, "who"), {"relationship": "self", "complete": "1"})
    assert response.status_code == 302
    assert response["Location"] == _url(case, "diagnosis")  # "about" is already done
    # "Save and come back later" goes back to the task list.
    response = client.post(_url(case, "treatment"), {"proposed_treatment": "Surgery", "draft": "1"})
    assert response["Location"] == reverse("requests_app:case_detail", args=[case.uuid])


def test_the_last_section_done_goes_to_the_check_page(client, patient):
    case = CaseFactory(owner=patient, complete=True)
    for section in SECTIONS:
        CaseSection.objects.update_or_create(
            case=case, section=section.key, defaults={"state": SectionState.COMPLETED}
        )
    client.force_login(patient)
    response = client.post(
        _url(case, "authorisation"),
        {"agree": "on", "signature": patient.full_name, "complete": "1"},
    )
    assert response["Location"] == reverse("requests_app:case_check", args=[case.uuid])


def test_the_button_says_save_and_continue(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case, "about")).content.decode()
    assert "Save and continue" in html
    assert "Save and mark as complete" not in html


def test_legal_authority_is_asked_only_when_acting_for_someone(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case, "who")).content.decode()
    # Marked up as a reveal (shown by the script once a choice for someone else is made).
    assert re.search(
        r'data-reveal-name="relationship" data-reveal-values="parent guardian proxy"', html
    )
    assert "legal authority" not in visible_text(html, {"relationship": "self"})
    assert "legal authority" in visible_text(html, {"relationship": "proxy"})
    # Acting for someone: still required (the server checks, with or without JavaScript).
    response = client.post(_url(case, "who"), {"relationship": "proxy", "complete": "1"})
    assert "Confirm that you have the legal authority" in response.content.decode()


def test_policy_fields_apply_only_when_insured_and_are_forgotten_otherwise(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case, "insurance")).content.decode()
    assert "Member ID" not in visible_text(html, {"payment": "self_pay"})
    assert "Member ID" in visible_text(html, {"payment": "insurance"})
    # Insured: the policy details are required.
    response = client.post(_url(case, "insurance"), {"payment": "insurance", "complete": "1"})
    assert "Enter the member ID from the card." in response.content.decode()
    # Typed, then "I will pay myself" chosen (the browser still sends the hidden
    # fields): paying themselves, the policy is neither required nor kept.
    client.post(
        _url(case, "insurance"),
        {
            "payment": "self_pay",
            "insurance_carrier": "Aetna",
            "insurance_member_id": "W123",
            "complete": "1",
        },
    )
    case.refresh_from_db()
    assert case.payment == "self_pay"
    assert case.insurance_carrier == "" and case.insurance_member_id == ""
    assert CaseSection.objects.get(case=case, section="insurance").state == SectionState.COMPLETED
    check = client.get(reverse("requests_app:case_check", args=[case.uuid])).content.decode()
    assert "Member ID" not in check


def test_the_diagnosis_code_waits_behind_i_have_a_code(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case, "diagnosis")).content.decode()
    assert "I have a code from my doctor" in html
    assert "ICD-10" not in visible_text(html)
    assert "The code" not in visible_text(html)
    assert "The code" in visible_text(html, {"has_code": "on"})
    # Ticked with no code: said plainly, nothing lost.
    response = client.post(
        _url(case, "diagnosis"), {"diagnosis": "Breast cancer", "has_code": "on", "complete": "1"}
    )
    assert "Enter the code from your doctor, or untick" in response.content.decode()
    assert "Breast cancer" in response.content.decode()


def test_a_code_typed_without_the_tick_is_kept(client, patient):
    """Without JavaScript the code box shows too; what is typed there counts."""
    client.force_login(patient)
    case = services.case_start(actor=patient)
    client.post(
        _url(case, "diagnosis"), {"diagnosis": "Breast cancer", "icd10": "C50.911", "complete": "1"}
    )
    case.refresh_from_db()
    assert case.icd10_id == "C50.911"
    html = client.get(_url(case, "diagnosis")).content.decode()
    assert re.search(r'id="id_has_code"[^>]*checked|checked[^>]*id="id_has_code"', html)


def test_the_authorisation_is_a_plain_summary_with_the_legal_text_folded(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case, "authorisation")).content.decode()
    text = visible_text(html)
    assert "What you agree to" in text
    for line in authorisation.SUMMARY:
        assert str(line) in text
    # The signed text is on the page, folded under "Read the full authorisation".
    assert re.search(r"<details[^>]*>\s*<summary><span>Read the full authorisation", html)
    assert str(authorisation.PARAGRAPHS[0]) in html
    assert str(authorisation.PARAGRAPHS[0]) not in text
    assert (
        text.index("What you agree to")
        < text.index("Read the full authorisation")
        < text.index("Type your full name to sign")
    )
    # One tick and a typed name.
    assert html.count('type="checkbox"') == 1


def test_the_check_page_leaves_out_questions_not_asked_or_not_answered(client, patient):
    case = CaseFactory(owner=patient, complete=True)
    client.force_login(patient)
    text = visible_text(
        client.get(reverse("requests_app:case_check", args=[case.uuid])).content.decode()
    )
    assert "Not answered" not in text
    assert "Legal authority" not in text  # asking for herself
    assert "Insurance company" not in text  # paying herself
    # Short labels, each answer once, a change link per section.
    assert "What worries you\nWhether I really need surgery" in text
    assert text.count("Change") == len(SECTIONS)
    # The case page still lists every question asked.
    services.case_submit(actor=patient, case_ref=case.uuid)
    page = visible_text(
        client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    )
    assert "Not answered" in page


def test_a_reader_of_spanish_chooses_a_specialty_by_its_spanish_name_and_reads_it_back(
    client, patient
):
    from specialists.models import Specialty
    from specialists.services import specialties_load

    if not Specialty.objects.exists():
        specialties_load()
    patient.language = "es"
    patient.save(update_fields=["language"])
    client.force_login(patient)
    case = services.case_start(actor=patient)
    page = client.get(_url(case, "specialist")).content.decode()
    oncology = Specialty.objects.get(slug="oncology")
    assert f'<option value="{oncology.pk}">Oncología médica</option>' in page
    assert "Medical Oncology" not in page
    client.post(
        _url(case, "specialist"),
        {"specialty": oncology.pk, "consultation_type": "written", "complete": "1"},
    )
    review = client.get(reverse("requests_app:case_check", args=[case.uuid])).content.decode()
    assert "Oncología médica" in visible_text(review)
