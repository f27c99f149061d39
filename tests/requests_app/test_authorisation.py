"""The HIPAA authorisation in Spanish: a translation of the English text signed,
pinned to its version, with the English one tap away; the signature records which
the signer read."""

import pytest
from django.urls import reverse

from bench.pagetext import visible_text
from requests_app import authorisation, services
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _url(case):
    return reverse("requests_app:case_section", args=[case.uuid, "authorisation"])


def test_the_spanish_text_translates_each_english_paragraph():
    spanish = authorisation.TRANSLATIONS["es"]
    assert len(spanish.paragraphs) == len(authorisation.ENGLISH.paragraphs)
    assert not set(spanish.paragraphs) & set(authorisation.ENGLISH.paragraphs)
    assert authorisation.text_in("fr") is authorisation.ENGLISH
    assert authorisation.reading_language("es-us") == "es"
    assert authorisation.reading_language("de") == "en"


def test_a_reader_of_spanish_reads_the_translation_with_the_english_below(client, patient):
    patient.language = "es"
    patient.save(update_fields=["language"])
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case)).content.decode()
    text = visible_text(html)
    spanish = authorisation.TRANSLATIONS["es"]
    assert spanish.title in html
    assert spanish.paragraphs[0] in html
    assert "Lo que usted acepta" in text  # the page is in Spanish
    # Folded under "Read the full authorisation": the translation, said to be one.
    assert "Esta es una traducción del texto en inglés que usted firma." in html
    # The English text is there too, marked as English for screen readers.
    assert authorisation.ENGLISH.paragraphs[0] in html
    assert '<div class="details-text" lang="en">' in html


def test_a_reader_of_english_reads_the_english_text_once(client, patient):
    client.force_login(patient)
    case = services.case_start(actor=patient)
    html = client.get(_url(case)).content.decode()
    assert html.count(authorisation.ENGLISH.paragraphs[0]) == 1
    assert authorisation.TRANSLATIONS["es"].paragraphs[0] not in html


@pytest.mark.parametrize(("language", "read_in"), [("es", "es"), ("en", "en")])
def test_signing_records_the_language_read(client, patient, language, read_in):
    patient.language = language
    patient.save(update_fields=["language"])
    case = CaseFactory(owner=patient, complete=True)
    client.force_login(patient)
    response = client.post(_url(case), {"agree": "on", "signature": patient.full_name})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.authorisation_version == authorisation.VERSION
    assert case.authorisation_language == read_in


def test_the_signed_authorisation_says_which_text_was_read(client, patient):
    patient.language = "es"
    patient.save(update_fields=["language"])
    case = CaseFactory(owner=patient, complete=True)
    client.force_login(patient)
    client.post(_url(case), {"agree": "on", "signature": patient.full_name})
    patient.language = "en"
    patient.save(update_fields=["language"])
    check = reverse("requests_app:case_check", args=[case.uuid])
    text = visible_text(client.get(check).content.decode())
    assert "Read in" in text
    assert "Spanish (a translation of the English text signed)" in text
