"""Issue 21, items 1 and 2: the trials to ask about and the evidence, from the
specialist's form to the PDF, the reading pages and the FHIR bundle; and the two
opinions side by side on the patient's page when they differ."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from requests_app.reports import fhir, services
from requests_app.reports.models import ReportVersion
from requests_app.reports.references import evidence_references, parse_trial_ids
from tests.aftercare.factories import delivered_case, sent_share
from tests.reports.factories import COMPLETE, assigned_case, release, sign, write_draft
from tests.reports.test_fhir import parsed
from tests.reports.test_pdf import pdf_text
from tests.reports.test_views import as_user, form_data

pytestmark = pytest.mark.django_db

TRIALS = {
    "text": {
        **COMPLETE["text"],
        "trials_note": "A trial of radiotherapy after lumpectomy; ask your oncologist.",
        "evidence": "Fisher B et al. Twenty-year follow-up. N Engl J Med 2002. "
        "doi:10.1056/NEJMoa022152\nNCCN Guidelines, Breast Cancer (PMID: 33301246)\n"
        "Our tumour board's consensus",
    },
    "trial_ids": ["NCT01234567", "NCT07654321"],
}


@pytest.fixture
def case(patient, coordinator, specialist):
    return assigned_case(patient, coordinator, specialist)


# --- Reading what was typed ---------------------------------------------------------------------
def test_trial_ids_are_normalised_upper_case_in_their_order():
    assert parse_trial_ids(" nct01234567,NCT07654321;\nNct00000001 ") == [
        "NCT01234567",
        "NCT07654321",
        "NCT00000001",
    ]
    assert parse_trial_ids("") == []


def test_each_reference_links_its_doi_or_pmid():
    doi, pmid, plain = evidence_references(TRIALS["text"]["evidence"])
    assert (
        doi.url == "https://doi.org/10.1056/NEJMoa022152" and doi.linked == "10.1056/NEJMoa022152"
    )
    assert pmid.url == "https://pubmed.ncbi.nlm.nih.gov/33301246/"
    assert (
        pmid.before + pmid.linked + pmid.after == "NCCN Guidelines, Breast Cancer (PMID: 33301246)"
    )
    assert plain.url == "" and plain.before == "Our tumour board's consensus"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("NCT1234567", "“NCT1234567” is not a ClinicalTrials.gov identifier"),
        ("NCT01234567 12345678", "“12345678” is not a ClinicalTrials.gov identifier"),
        ("NCT01234567, nct01234567", "NCT01234567 is named more than once"),
    ],
)
def test_the_form_refuses_malformed_or_repeated_trials_keeping_what_was_typed(
    client, case, specialist, typed, words
):
    url = reverse("reports:write", args=[case.uuid])
    response = as_user(client, specialist).post(
        url, {**form_data(case, trial_ids=typed), "action": "save"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert words in html
    assert f'value="{typed}"' in html  # what they typed, kept
    assert not ReportVersion.objects.exists()


def test_the_form_saves_trials_upper_case_and_shows_them_with_help(client, case, specialist):
    url = reverse("reports:write", args=[case.uuid])
    as_user(client, specialist)
    html = client.get(url).content.decode()
    assert "ClinicalTrials.gov identifiers (optional)" in html
    assert "“NCT” and 8 digits" in html and "Evidence you rely on (optional)" in html
    assert "Why your opinion differs, in plain words" in html
    data = form_data(case, trial_ids="nct01234567 NCT07654321", evidence=TRIALS["text"]["evidence"])
    response = client.post(url, {**data, "action": "save"})
    assert response.status_code == 302
    draft = ReportVersion.objects.get()
    assert draft.trial_ids == ["NCT01234567", "NCT07654321"]
    assert 'value="NCT01234567, NCT07654321"' in client.get(url).content.decode()


def test_a_reference_naming_a_pmid_without_its_number_is_refused(client, case, specialist):
    url = reverse("reports:write", args=[case.uuid])
    typed = "Good study\nAnother, PMID pending"
    response = as_user(client, specialist).post(
        url, {**form_data(case, evidence=typed), "action": "save"}
    )
    assert response.status_code == 400
    assert "Reference 2 names a PMID without its number" in response.content.decode()


def test_the_service_refuses_a_malformed_trial_from_any_caller(case, specialist):
    with pytest.raises(services.ReportError) as refused:
        write_draft(case, specialist, trial_ids=["NCT123"])
    assert [f for f, _m in refused.value.problems] == ["trial_ids"]


# --- Reasons: needed to sign only when the opinion differs --------------------------------------
@pytest.mark.parametrize(
    ("diagnosis", "treatment", "needed"),
    [
        ("different", "agrees", True),
        ("undetermined", "agrees", True),
        ("agrees", "changes", True),
        ("refined", "alternative", True),
        ("agrees", "agrees", False),
        ("refined", "agrees", False),
    ],
)
def test_reasons_are_needed_to_sign_only_when_the_opinion_differs(
    case, specialist, diagnosis, treatment, needed
):
    write_draft(
        case,
        specialist,
        diagnosis_opinion=diagnosis,
        treatment_opinion=treatment,
        text={**COMPLETE["text"], "reasons": "  "},
    )
    if needed:
        with pytest.raises(services.ReportError) as refused:
            services.report_sign(actor=specialist, case_ref=case.uuid)
        assert [f for f, _m in refused.value.problems] == ["reasons"]
        assert "Say why your opinion differs" in refused.value.problems[0][1]
    else:
        version = services.report_sign(actor=specialist, case_ref=case.uuid)
        assert version.status == "signed"


def test_the_sign_page_links_the_missing_reasons(client, case, specialist):
    write_draft(case, specialist, text={**COMPLETE["text"], "reasons": ""})
    html = (
        as_user(client, specialist).get(reverse("reports:sign", args=[case.uuid])).content.decode()
    )
    write = reverse("reports:write", args=[case.uuid])
    assert f'href="{write}#id_reasons"' in html and "Say why your opinion differs" in html


# --- Where they reach ---------------------------------------------------------------------------
def test_the_pdf_names_the_reasons_the_trials_and_the_evidence(case, specialist):
    version = sign(case, specialist, **TRIALS)
    text = " ".join(pdf_text(default_storage.open(version.pdf_key).read()))
    for expected in (
        "WHY THE OPINION DIFFERS",  # a label, in capitals
        COMPLETE["text"]["reasons"],
        "Clinical trials to ask about",
        "A trial of radiotherapy after lumpectomy",
        "NCT01234567",
        "https://clinicaltrials.gov/study/NCT07654321",
        "Evidence",
        "doi:10.1056/NEJMoa022152",
        "NCCN Guidelines, Breast Cancer (PMID: 33301246)",
        "https://pubmed.ncbi.nlm.nih.gov/33301246/",
        "Our tumour board's consensus",
    ):
        assert expected in text, expected


def test_an_amendment_starts_from_the_trials_and_evidence(case, specialist, coordinator):
    sign(case, specialist, **TRIALS)
    release(case, coordinator)
    draft = services.report_amend(actor=specialist, case_ref=case.uuid, reason="New results.")
    assert draft.trial_ids == TRIALS["trial_ids"]
    assert draft.evidence == TRIALS["text"]["evidence"]
    assert draft.reasons == COMPLETE["text"]["reasons"]


def test_the_fhir_conclusion_carries_them(case, specialist, coordinator):
    sign(case, specialist, **TRIALS)
    version = release(case, coordinator)
    bundle = parsed(fhir.bundle_json(version))
    (report,) = [
        e.resource for e in bundle.entry if e.resource.get_resource_type() == "DiagnosticReport"
    ]
    assert "Why the opinion differs: " + COMPLETE["text"]["reasons"] in report.conclusion
    assert "NCT01234567 (https://clinicaltrials.gov/study/NCT01234567)" in report.conclusion
    assert "Our tumour board's consensus" in report.conclusion
    assert "(https://pubmed.ncbi.nlm.nih.gov/33301246/)" in report.conclusion


def test_the_care_team_and_the_physician_read_them_linked(client, patient, specialist, coordinator):
    case = delivered_case(owner=patient, specialist=specialist, case_manager=coordinator)
    version = case.report.versions.get()
    version.trial_ids = ["NCT01234567"]
    version.evidence = TRIALS["text"]["evidence"]
    version.reasons = "The biopsy shows otherwise."
    version.save()
    _share, token = sent_share(case=case)
    pages = [client.get(reverse("aftercare:shared_report", args=[token])).content.decode()]
    as_user(client, coordinator)
    pages.append(client.get(reverse("reports:version", args=[version.uuid])).content.decode())
    for html in pages:
        assert 'href="https://clinicaltrials.gov/study/NCT01234567"' in html
        assert 'href="https://doi.org/10.1056/NEJMoa022152"' in html
        assert "The biopsy shows otherwise." in html


# --- The patient's page: the two opinions side by side ------------------------------------------
def _patient_page(client, case, specialist, coordinator, patient, **overrides):
    sign(case, specialist, **overrides)
    release(case, coordinator)
    return as_user(client, patient).get(reverse("reports:case", args=[case.uuid])).content.decode()


def test_a_different_opinion_opens_with_both_side_by_side(
    client, case, specialist, coordinator, patient
):
    html = _patient_page(
        client,
        case,
        specialist,
        coordinator,
        patient,
        diagnosis_opinion="different",
        treatment_opinion="agrees",
        **TRIALS,
    )
    assert "Two opinions, side by side" in html
    compare = html[html.index("Two opinions, side by side") : html.index("In short")]
    assert "Your first doctor said" in compare and "The specialist says" in compare
    assert case.diagnosis in compare and case.proposed_treatment in compare
    assert COMPLETE["text"]["diagnosis"] in compare
    assert "Why the specialist thinks so" in compare and COMPLETE["text"]["reasons"] in compare
    assert "Talk it through with your doctor" in compare
    assert reverse("aftercare:share", args=[case.uuid]) in compare
    assert reverse("aftercare:follow_up", args=[case.uuid]) in compare
    assert "Clinical trials you could ask about" in html
    assert 'href="https://clinicaltrials.gov/study/NCT07654321"' in html


def test_an_agreeing_opinion_has_no_side_by_side(client, case, specialist, coordinator, patient):
    html = _patient_page(
        client,
        case,
        specialist,
        coordinator,
        patient,
        diagnosis_opinion="refined",
        treatment_opinion="agrees",
    )
    assert "Two opinions, side by side" not in html
    assert "Clinical trials you could ask about" not in html  # none named


@pytest.mark.parametrize(
    ("days", "shown"), [(0, True), (12, True), (30, True), (31, False), (-1, False)]
)
def test_a_treatment_booked_soon_is_named(
    client, case, specialist, coordinator, patient, days, shown
):
    day = timezone.localdate() + datetime.timedelta(days=days)
    case.treatment_date = day
    case.save(update_fields=["treatment_date"])
    html = _patient_page(client, case, specialist, coordinator, patient)
    sentence = (
        f"Talk to your surgeon or doctor before your treatment on {day:%A} {day.day} {day:%B}."
    )
    assert (sentence in html) is shown
