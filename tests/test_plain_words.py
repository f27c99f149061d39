"""Plain words for patients: every page a patient sees reads at grade 8 or below
(Flesch-Kincaid over the text of <main>, textstat; bench/reading_grade.py prints
them all), and none shows a code, a MIME type, a hash or a DICOM term unless
the patient asks for it (a folded "Technical details")."""

import re

import pytest

from bench.pagetext import visible_text
from bench.reading_grade import (
    TARGET_EASE_ES,
    TARGET_GRADE,
    ease_es,
    grade,
    grades,
    patient_pages,
    patient_world,
    sign_in,
)
from requests_app import authorisation

pytestmark = pytest.mark.django_db

JARGON = re.compile(r"ICD-?10|application/\w|image/\w|SHA-?256|DICOM|MIME|Modalit", re.I)


@pytest.fixture
def world(db):
    patient, draft, sent, record, specialist = patient_world()
    pages = patient_pages(draft=draft, sent=sent, record=record, specialist=specialist)
    return sign_in(patient), pages


def test_it_reads_at_grade_8_or_below_on_every_patient_page(world):
    client, pages = world
    rows = grades(client, pages)
    assert len(rows) == len(pages) + 1  # and the home page
    over = [(name, round(value, 1)) for name, value, _words in rows if value > TARGET_GRADE]
    assert over == []


def test_it_reads_at_fernandez_huerta_70_or_more_on_every_patient_page_in_spanish(db):
    patient, draft, sent, record, specialist = patient_world()
    pages = patient_pages(draft=draft, sent=sent, record=record, specialist=specialist)
    client = sign_in(patient)
    patient.language = "es"
    patient.save(update_fields=["language"])
    rows = grades(client, pages, measure=ease_es, language="es")
    under = [(name, round(value, 1)) for name, value, _words in rows if value < TARGET_EASE_ES]
    assert under == []
    # The measure can fail: a heavy legal sentence reads far below the target.
    assert (
        ease_es("<main>" + "\n".join(authorisation.TRANSLATIONS["es"].paragraphs) + "</main>")[0]
        < TARGET_EASE_ES
    )


def test_the_authorisation_summary_reads_at_grade_8_or_below():
    text = "\n".join(str(line) for line in authorisation.SUMMARY)
    value, _words = grade(f"<main>{text}</main>")
    assert value <= TARGET_GRADE
    # The legal text itself is harder: that is why the summary comes first.
    legal, _words = grade(
        "<main>" + "\n".join(str(p) for p in authorisation.PARAGRAPHS) + "</main>"
    )
    assert legal > value


def test_it_shows_no_code_type_hash_or_scan_term_to_a_patient(world):
    client, pages = world
    for name, url in pages:
        text = visible_text(client.get(url).content.decode())
        assert not JARGON.search(text), (name, JARGON.search(text).group(0))


def test_a_record_names_its_type_in_words_and_folds_the_details(world):
    client, pages = world
    url = dict(pages)["A record"]
    html = client.get(url).content.decode()
    assert "PDF document" in visible_text(html)
    # Asked for: under "Technical details".
    assert re.search(r"<summary><span>Technical details</span></summary>", html)
    assert "application/pdf" in html and "SHA-256" in html


def test_the_grade_check_can_fail():
    hard = (
        "<main><p>Notwithstanding the aforementioned considerations, the institutional "
        "authorisation encompasses comprehensive documentation.</p></main>"
    )
    assert grade(hard)[0] > TARGET_GRADE
