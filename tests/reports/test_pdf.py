"""requests_app.reports.pdf: the signed report as a real PDF, with what it says,
its verification code and page numbers, rendered without fetching anything."""

import io

import pypdfium2
import pytest
from django.core.files.storage import default_storage

from requests_app.icd10.models import Icd10Code
from requests_app.reports import codes, pdf
from tests.reports.factories import ANSWER_1, ANSWER_2, assigned_case, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(patient, coordinator, specialist):
    return assigned_case(patient, coordinator, specialist)


def pdf_text(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def test_the_stored_pdf_is_a_real_pdf_with_the_opinions_and_every_answer(case, specialist):
    Icd10Code.objects.get_or_create(
        code="C50.912",
        defaults={
            "title": "Malignant neoplasm of unspecified site of left female breast",
            "search_text": "c50.912 malignant neoplasm",
        },
    )
    version = sign(case, specialist, icd10=Icd10Code.objects.get(code="C50.912"))
    data = default_storage.open(version.pdf_key).read()
    assert data.startswith(b"%PDF-") and len(data) == version.pdf_size
    pages = pdf_text(data)
    text = " ".join(pages)
    for expected in (
        "Second-opinion report",
        "Pat Patient",
        "17 May 1970",
        case.reference,
        "Dr. Spec, MD, PhD",
        "Medical Oncology",
        "Lakeside University Hospital",
        "Agrees, with a refinement",
        "Suggests changes to the plan",
        "Invasive ductal carcinoma, left breast, stage IA",
        "C50.912",
        "Is surgery my only option?",
        ANSWER_1,
        "Should anything be done first?",
        ANSWER_2,
        "Core biopsy, left breast",
        "Electronically signed by Dr. Spec",
    ):
        assert expected in text, expected
    # The answers come in the patient's order, each after its question.
    assert (
        text.index("Is surgery my only option?")
        < text.index(ANSWER_1)
        < text.index("Should anything be done first?")
        < text.index(ANSWER_2)
    )
    # Every page carries the code, the check page's address and its number.
    code = codes.grouped(version.verification_code)
    for number, page in enumerate(pages, start=1):
        assert f"Verification code {code}" in page
        assert "http://testserver/reports/verify/" in page
        assert f"Page {number} of {len(pages)}" in page


def test_what_was_typed_is_text_and_nothing_is_fetched(case, specialist, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    typed = f'<img src="file://{secret}"> <link rel=stylesheet href="file://{secret}"> & <b>x</b>'
    version = sign(
        case,
        specialist,
        text={"summary": typed, "diagnosis": "Fibroadenoma", "reasons": "Why."},
        render=False,
    )
    version.refresh_from_db()
    data = pdf.render_version(version)
    text = " ".join(pdf_text(data))
    assert '<img src="file://' in text and "& <b>x</b>" in text
    assert "TOP-SECRET" not in text


def test_an_amended_version_says_so_with_its_reason(case, specialist, coordinator):
    from requests_app.reports import services
    from tests.reports.factories import release

    sign(case, specialist)
    release(case, coordinator)
    services.report_amend(actor=specialist, case_ref=case.uuid, reason="The CT was re-read.")
    version = sign(case, specialist)
    text = " ".join(pdf_text(default_storage.open(version.pdf_key).read()))
    assert "version 2" in text and "Reason for the amendment: The CT was re-read." in text


def test_a_reader_of_spanish_gets_spanish_headings_and_the_specialists_own_words(case, specialist):
    case.owner.language = "es"
    case.owner.save(update_fields=["language"])
    version = sign(case, specialist)
    text = " ".join(pdf_text(default_storage.open(version.pdf_key).read()))
    for heading in ("Informe de segunda opinión", "1. La opinión en resumen", "17 de mayo de 1970"):
        assert heading in text, heading
    assert "Second-opinion report" not in text
    # The signer's specialty, kept in English at signing, is named in Spanish.
    assert version.signer_specialties == "Medical Oncology"
    assert "Oncología médica" in text and "Medical Oncology" not in text
    # What the specialist wrote stays as written, and the document says so.
    assert ANSWER_1 in text
    assert "Solo se traducen los títulos" in text
