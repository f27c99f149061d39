"""SecondOp in Spanish, in Chromium, one patient's story from the first visit to the
report: a browser that asks for Spanish gets the home page in Spanish; the visitor
signs up and verifies their email, writes and sends a whole request (the
authorisation read in Spanish and signed), opens their records, reads the released
report and downloads its PDF (Spanish headings, the specialist's words as written),
and answers the care team's question. Every page says lang="es" and passes axe;
the header's switch turns one page to English and back, at the same URL."""

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.core import mail
from playwright.sync_api import expect

from requests_app.icd10.loading import load_icd10_codes
from requests_app.icd10.models import Icd10Code
from requests_app.messaging import services as messaging
from requests_app.models import Case, CaseStatus
from secondop.accounts.models import User
from specialists.models import Specialty
from specialists.services import specialties_load
from tests.accounts.factories import UserFactory
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import assert_no_csp_violations, new_page, screenshot
from tests.e2e.test_intake import CASE_URL, fill_date
from tests.records.factories import RecordFactory
from tests.reports.factories import profile_for, release, sign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "una-frase-larga-y-poco-comun"
ANSWER_1 = "No. For a tumour this size, breast-conserving surgery works as well."
ANSWER_2 = "Radiotherapy after the lumpectomy, five days a week for three weeks."
QUESTION = "¿Tiene una mamografía de este año? Si la tiene, súbala, por favor."
REPLY = "Sí, la subo mañana: me la hicieron en el Hospital Metropolitano."


def spanish(page, label: str, *, phone: bool = True) -> None:
    """The page is in Spanish (its <html lang>) and passes axe, here and at 320 px."""
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page, label, phone=phone)


def shots(page, name: str) -> None:
    """The page at 1280 px and on a 390 px phone."""
    screenshot(page, f"es-{name}")
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"es-{name}-390")
    page.set_viewport_size(size)


def save_and_continue(page) -> None:
    page.get_by_role("button", name="Guardar y continuar").click()


def at_section(page, title: str) -> None:
    page.get_by_role("heading", level=1, name=title).wait_for()
    spanish(page, title)


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return " ".join(page.get_textpage().get_text_range() for page in document)


@pytest.fixture
def world(db):
    # Earlier transactional tests flush what the migrations loaded.
    if not Specialty.objects.exists():
        specialties_load()
    if not Icd10Code.objects.exists():
        load_icd10_codes(Icd10Code)
    coordinator = UserFactory(
        role="coordinator", email="grace@example.com", full_name="Grace Nurse"
    )
    specialist = UserFactory(
        role="specialist", email="marsh@example.com", full_name="Dr. Helen Marsh"
    )
    profile_for(specialist)
    return coordinator, specialist


def test_a_spanish_speaker_signs_up_asks_reads_the_report_and_answers_in_spanish(
    browser, live_server, world, request
):
    coordinator, specialist = world
    page = new_page(browser, live_server.url, locale="es-US")
    request.addfinalizer(page.context.close)

    # --- A new visitor: the browser asks for Spanish --------------------------------------
    page.goto("/")
    spanish(page, "home")
    shots(page, "home")
    page.get_by_role("link", name="Crear una cuenta").first.click()
    page.wait_for_url(re.compile("/accounts/signup/"))
    spanish(page, "sign-up")
    shots(page, "sign-up")
    page.get_by_label(re.compile("^Su nombre completo")).fill("María López")
    page.locator("#id_email").fill("maria@example.com")
    page.locator("#id_password1").fill(PASSPHRASE)
    page.locator("#id_password2").fill(PASSPHRASE)
    page.locator("#main").get_by_role("button", name=re.compile("Crear|Regist", re.I)).click()
    page.wait_for_url(re.compile("/accounts/confirm-email/"))
    spanish(page, "verification sent")
    patient = User.objects.get(email="maria@example.com")
    assert patient.language == "es"  # kept from the language they signed up in

    # The verification email, in Spanish too.
    (email,) = mail.outbox
    assert "confirmar su correo electrónico" in email.subject, email.subject
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", email.body).group(0)
    page.goto(link.replace("http://testserver", live_server.url))
    assert page.title() == "Confirme su correo electrónico · SecondOp"
    spanish(page, "confirm email")
    page.locator("#main").get_by_role("button", name=re.compile("Confirmar", re.I)).click()
    page.wait_for_url(re.compile("/requests/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sus solicitudes")
    spanish(page, "empty dashboard")

    # --- The whole request, in Spanish ------------------------------------------------------
    page.get_by_role("button", name="Empezar otra solicitud").click()
    page.wait_for_url(CASE_URL)
    spanish(page, "task list")
    shots(page, "task-list")

    page.get_by_role("link", name="Para quién es la solicitud", exact=True).click()
    spanish(page, "who")
    page.get_by_label("Para mí").check()
    save_and_continue(page)

    at_section(page, "Sobre el paciente")
    fill_date(page, "id_patient_dob", "27", "3", "1975")
    page.locator("#id_patient_phone").fill("212 555 0123")
    page.locator("#id_patient_sex_0").check()
    page.locator("#id_patient_state").select_option("NY")
    shots(page, "about")
    save_and_continue(page)

    at_section(page, "El diagnóstico")
    page.locator("#id_diagnosis").fill("Cáncer de mama en etapa temprana")
    save_and_continue(page)

    at_section(page, "Tratamiento propuesto")
    page.locator("#id_proposed_treatment").fill("Mastectomía")
    page.locator("#id_treatment_started_1").check()
    save_and_continue(page)

    at_section(page, "Por qué quiere una segunda opinión")
    page.locator("#id_reasons_0").check()
    page.get_by_label("Lo que más le preocupa, con sus propias palabras").fill(
        "Si de verdad hace falta quitar todo el seno"
    )
    page.locator("#id_questions").fill("¿La cirugía es mi única opción?\n¿Y la radioterapia?")
    save_and_continue(page)

    at_section(page, "Historial de salud")
    page.locator("#id_symptoms").fill("Un bulto desde agosto")
    save_and_continue(page)

    at_section(page, "Preferencias de especialista")
    page.locator("#id_specialty").select_option(label="Oncología médica")
    page.locator("#id_consultation_type_0").check()  # a written opinion only
    save_and_continue(page)

    at_section(page, "Médico de atención primaria")
    page.locator("#id_pcp_name").fill("Dra. Ana Reyes")
    page.locator("#id_pcp_referred_0").check()
    save_and_continue(page)

    at_section(page, "Seguro médico")
    page.locator("#id_payment_0").check()
    save_and_continue(page)

    # The authorisation: the plain summary and the full text, read in Spanish.
    at_section(page, "Autorización para usar sus expedientes")
    assert page.get_by_role("heading", name="Lo que usted acepta").is_visible()
    page.get_by_text("Leer la autorización completa").click()
    shots(page, "authorisation")
    page.locator("#id_agree").check()
    page.locator("#id_signature").fill("María López")
    page.get_by_role("button", name="Firmar y guardar").click()

    page.get_by_role("heading", level=1, name="Revise sus respuestas y envíe").wait_for()
    spanish(page, "check answers")
    expect(page.locator("#main")).to_contain_text("Oncología médica")
    shots(page, "check-answers")
    page.get_by_role("button", name="Enviar mi solicitud").click()
    page.wait_for_url(re.compile(r"/sent/$"))
    spanish(page, "sent")
    shots(page, "sent")
    page.get_by_role("link", name="Más tarde: ir a mi solicitud").click()
    page.wait_for_url(CASE_URL)
    case = Case.objects.get(owner=patient)
    assert case.status == CaseStatus.SUBMITTED
    assert case.authorisation_language == "es"
    # When it was sent, written as Spanish writes a date ("7 de diciembre de 2026").
    sent = page.locator("dt", has_text=re.compile("^Enviad")).locator("xpath=following-sibling::dd")
    expect(sent).to_have_text(re.compile(r"^\d{1,2} de [a-z]+ de \d{4}, "))
    spanish(page, "case page")
    shots(page, "case")

    # --- The header's switch: English, then Spanish again, at the same URL ----------------
    case_url = page.url
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == case_url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {case.reference}")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page.url == case_url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Solicitud {case.reference}")
    patient.refresh_from_db()
    assert patient.language == "es"

    # --- Their records ------------------------------------------------------------------------
    page.goto(f"/records/case/{case.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("expedientes")
    spanish(page, "records")
    shots(page, "records")

    # --- The care team reviews; the report is signed and released (services) --------------
    case.status = CaseStatus.IN_REVIEW
    case.case_manager = coordinator
    case.specialist = specialist
    case.save(update_fields=["status", "case_manager", "specialist"])
    RecordFactory(case=case, title="Biopsia con aguja gruesa, seno izquierdo")
    positions = list(case.questions.order_by("position").values_list("position", flat=True))
    assert len(positions) == 2
    version = sign(
        case, specialist, answers=dict(zip(positions, [ANSWER_1, ANSWER_2], strict=True))
    )
    release(case, coordinator)

    page.goto(f"/requests/{case.uuid}/")
    page.get_by_role("link", name="Leer su informe").click()
    expect(page.get_by_role("heading", name="Su informe de segunda opinión")).to_be_visible()
    answers = page.locator(".report-qa")
    expect(answers.nth(0)).to_contain_text("¿La cirugía es mi única opción?")
    expect(answers.nth(0)).to_contain_text(ANSWER_1)  # the specialist's words, as written
    expect(page.locator(".report-signer-detail")).to_contain_text("Oncología médica")
    spanish(page, "report")
    shots(page, "report")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Descargar el informe en PDF")).click()
    text = pdf_text(Path(download.value.path()).read_bytes())
    for heading in ("Informe de segunda opinión", "1. La opinión en resumen"):
        assert heading in text, heading
    assert "Second-opinion report" not in text
    assert "Oncología médica" in text  # the signer's specialty, named in Spanish
    assert ANSWER_1 in text and ANSWER_2 in text
    assert "Solo se traducen los títulos" in text
    assert version.status == "signed"

    # --- A question from the care team, answered in the messages page --------------------
    messaging.message_post(actor=coordinator, case_ref=case.uuid, body=QUESTION, question=True)
    page.goto(f"/requests/{case.uuid}/")
    expect(page.get_by_role("region", name="Mensajes con su equipo de atención")).to_contain_text(
        QUESTION
    )
    page.get_by_role("link", name=re.compile("Leerla y responderla")).click()
    expect(page.get_by_role("heading", name="Una pregunta para usted")).to_be_visible()
    spanish(page, "messages")
    expect(page.get_by_label("Sí: responde la pregunta de arriba")).to_be_checked()
    page.get_by_label("Su mensaje para su equipo de atención").fill(REPLY)
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_text("Se envió su mensaje.")).to_be_visible()
    expect(page.get_by_text("Pregunta: respondida")).to_be_visible()
    spanish(page, "messages, answered")
    shots(page, "messages")
    assert case.messages.filter(author=patient, body=REPLY).exists()
    assert_no_csp_violations(page)
