"""An interpreter on the consultation (issue 22): the language from the patient's
request, the case manager records one booked, the patient is told and the
calendar file says so."""

import pytest
from django.core import mail
from django.urls import reverse

from bench.pagetext import visible_text
from requests_app.consultations import ics, services
from requests_app.consultations.models import Action
from secondop.audit.models import AuditEvent

from .conftest import span

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(case):
    case.interpreter_needed = True
    case.preferred_language = "Spanish"
    case.save(update_fields=["interpreter_needed", "preferred_language"])
    return case


@pytest.fixture
def consultation(asked, specialist, patient):
    proposed = services.consultation_propose(
        actor=specialist, case_ref=asked.uuid, slots=[span(3, 10), span(4, 15)]
    )
    slot = proposed.slots.order_by("starts_at").first()
    return services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)


def _url(consultation):
    return reverse("consultations:interpreter", args=[consultation.uuid])


def test_the_language_comes_from_the_patients_request(consultation):
    assert consultation.interpreter_language == "Spanish"
    assert not consultation.interpreter_booked


def test_the_case_manager_books_one_and_the_patient_is_told(
    client, consultation, coordinator, patient, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    form = client.get(_url(consultation)).content.decode()
    assert 'value="Spanish"' in form
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url(consultation), {"language": "Spanish", "booked": "on", "name": "Rosa Díaz"}
        )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.interpreter_booked and consultation.interpreter_name == "Rosa Díaz"
    assert consultation.events.filter(action=Action.INTERPRETER).exists()
    assert AuditEvent.objects.filter(
        action="consultations.consultation.interpreter_changed"
    ).exists()
    [email] = [m for m in mail.outbox if m.to == [patient.email]]
    assert "interpreter" in email.subject and "Spanish" in email.body
    # The patient's page and calendar file say so.
    client.force_login(patient)
    page = visible_text(
        client.get(reverse("consultations:detail", args=[consultation.uuid])).content.decode()
    )
    assert "A Spanish interpreter, Rosa Díaz, will join your consultation." in page
    assert "A Spanish interpreter will join." in ics.consultation_ics(
        consultation, method=ics.REQUEST
    ).replace("\r\n ", "")


def test_a_patient_who_reads_spanish_is_told_in_spanish(
    consultation, coordinator, patient, django_capture_on_commit_callbacks
):
    patient.language = "es"
    patient.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.consultation_interpreter_set(
            actor=coordinator, ref=consultation.uuid, language="español", booked=True, name="Rosa"
        )
    [email] = [m for m in mail.outbox if m.to == [patient.email]]
    assert "intérprete" in email.subject


def test_booked_without_a_name_is_the_forms_error_and_keeps_what_was_typed(
    client, consultation, coordinator
):
    client.force_login(coordinator)
    response = client.post(_url(consultation), {"language": "Tagalog", "booked": "on", "name": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the interpreter&#x27;s name." in html or "Enter the interpreter's name." in html
    assert 'value="Tagalog"' in html
    consultation.refresh_from_db()
    assert not consultation.interpreter_booked


def test_only_the_case_manager_records_it(client, consultation, specialist, patient, outsider):
    for person, status in ((specialist, 403), (patient, 403), (outsider, 404)):
        client.force_login(person)
        assert client.post(_url(consultation), {"booked": "on"}).status_code == status
    consultation.refresh_from_db()
    assert not consultation.interpreter_booked


def test_the_specialist_sees_who_is_booked(client, consultation, coordinator, specialist):
    services.consultation_interpreter_set(
        actor=coordinator, ref=consultation.uuid, language="Spanish", booked=True, name="Rosa Díaz"
    )
    client.force_login(specialist)
    page = visible_text(
        client.get(reverse("consultations:detail", args=[consultation.uuid])).content.decode()
    )
    assert "Booked: Rosa Díaz (Spanish)." in page
