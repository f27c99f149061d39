"""Which language each person reads SecondOp in (secondop.languages): the switch on
every page, kept on the account; the browser's language for new visitors; each
notification and email in its recipient's language, whoever's request sends it."""

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from requests_app import services
from secondop.accounts.models import User
from secondop.audit.models import AuditEvent
from secondop.notifications.models import Notification
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

SWITCH = reverse("language")


def _lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


def test_a_new_visitor_gets_their_browsers_language_when_it_is_offered(client):
    assert (
        _lang(client.get(reverse("account_login"), headers={"accept-language": "es-US,es"})) == "es"
    )
    assert _lang(client.get(reverse("account_login"), headers={"accept-language": "fr-FR"})) == "en"


def test_the_switch_is_on_every_page_sign_in_included(client, patient):
    html = client.get(reverse("account_login")).content.decode()
    assert f'action="{SWITCH}"' in html and 'lang="es">Español</button>' in html
    client.force_login(patient)
    html = client.get(reverse("requests_app:dashboard")).content.decode()
    assert f'action="{SWITCH}"' in html


def test_a_visitor_switches_and_the_same_page_comes_back_in_spanish(client):
    login = reverse("account_login")
    response = client.post(SWITCH, {"language": "es", "next": login})
    assert response.status_code == 302 and response["Location"] == login
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = client.get(login)
    assert _lang(page) == "es"
    assert "Iniciar sesión" in page.content.decode()
    # ...and back: the switch now offers English.
    assert 'lang="en">English</button>' in page.content.decode()


def test_a_signed_in_persons_choice_is_kept_on_the_account_and_audited(client, patient):
    client.force_login(patient)
    client.post(SWITCH, {"language": "es", "next": reverse("requests_app:dashboard")})
    patient.refresh_from_db()
    assert patient.language == "es"
    assert AuditEvent.objects.filter(action="accounts.user.language_changed").exists()
    # Another browser, no cookie, a browser asking for English: still Spanish.
    client.cookies.clear()
    client.force_login(patient)
    page = client.get(reverse("requests_app:dashboard"), headers={"accept-language": "en"})
    assert _lang(page) == "es"


def test_a_language_not_offered_changes_nothing(client, patient):
    client.force_login(patient)
    response = client.post(SWITCH, {"language": "xx", "next": reverse("requests_app:dashboard")})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.language == ""
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert _lang(client.get(reverse("requests_app:dashboard"))) == "en"


def test_the_switch_never_sends_anyone_to_another_site(client):
    response = client.post(SWITCH, {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")
    response = client.post(SWITCH, {"language": "es"}, headers={"referer": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_the_switch_goes_back_to_the_page_it_was_on_without_naming_it(client, patient):
    client.force_login(patient)
    page = reverse("requests_app:dashboard")
    assert 'name="next"' not in client.get(page).content.decode()
    response = client.post(
        SWITCH, {"language": "es"}, headers={"referer": f"http://testserver{page}"}
    )
    assert response.status_code == 302 and response["Location"].endswith(page)


def test_the_language_signed_up_in_becomes_the_accounts(client):
    client.post(
        reverse("account_signup"),
        {
            "full_name": "Ana Pérez",
            "email": "ana@example.com",
            "password1": "a-long-and-unusual-passphrase",
            "password2": "a-long-and-unusual-passphrase",
        },
        headers={"accept-language": "es"},
    )
    assert User.objects.get(email="ana@example.com").language == "es"
    # Her email to confirm the address is in Spanish too.
    assert "correo" in (mail.outbox[-1].subject + mail.outbox[-1].body).lower()


def test_each_person_is_told_in_their_own_language(
    patient, coordinator, django_capture_on_commit_callbacks
):
    patient.language = "es"
    patient.save(update_fields=["language"])
    case = CaseFactory(owner=patient, complete=True)
    # The patient's request is in Spanish; the coordinator reads English.
    with translation.override("es"), django_capture_on_commit_callbacks(execute=True):
        services.case_submit(actor=patient, case_ref=case.uuid)
    to_patient = Notification.objects.get(recipient=patient)
    to_coordinator = Notification.objects.get(recipient=coordinator)
    assert to_patient.title != to_coordinator.title
    by_address = {m.to[0]: m for m in mail.outbox}
    spanish, english = by_address[patient.email], by_address[coordinator.email]
    assert spanish.body.startswith("Estimado(a) ") and "solicitud" in spanish.body.lower()
    assert english.body.startswith("Dear ") and "request" in english.body.lower()


def test_the_email_privacy_test_holds_in_spanish_too():
    # tests/test_email_privacy.py runs its three cases once more with every
    # person reading Spanish (its `language` parameter): this names the run.
    from tests import test_email_privacy

    assert "es" in test_email_privacy.LANGUAGES
