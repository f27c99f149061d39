"""The layout's fixed parts (secondop.fragments): rendered once per process and
language, with nothing of the reader or the page in them."""

import pytest
from django.test import override_settings
from django.urls import reverse

from secondop import fragments

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh():
    fragments.forget()
    yield
    fragments.forget()


def test_each_language_gets_its_own_footer_and_the_same_stylesheets(client, patient):
    client.force_login(patient)
    english = client.get(reverse("requests_app:dashboard")).content.decode()
    patient.language = "es"
    patient.save(update_fields=["language"])
    spanish = client.get(reverse("requests_app:dashboard")).content.decode()
    assert "In an emergency, call 911." in english and "llame al 911" not in english
    assert "En una emergencia, llame al 911." in spanish
    for page in (english, spanish):
        assert page.count('rel="stylesheet"') >= 30
        assert page.index("css/base/tokens.css") < page.index("css/base/motion-print.css")


def test_a_fragment_holds_nothing_of_the_reader(client, patient):
    client.force_login(patient)
    client.get(reverse("requests_app:dashboard"))
    kept = "".join(fragments._rendered.values())
    assert "Sign out" not in kept and patient.email not in kept
    assert patient.full_name not in kept


def test_a_settings_change_forgets_what_was_rendered(client):
    client.get(reverse("account_login"))
    with override_settings(SECONDOP_SUPPORT_EMAIL="help@clinic.example"):
        page = client.get(reverse("account_login")).content.decode()
    assert "help@clinic.example" in page
    assert "help@clinic.example" not in client.get(reverse("account_login")).content.decode()
