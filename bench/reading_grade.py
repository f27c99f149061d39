"""The reading grade of every page a patient sees. See bench/README.md.

    .venv/bin/python bench/reading_grade.py

Renders each patient page with Django's test client against a throwaway
SQLite database (migrated here, deleted at the end), takes the text of <main>
as a sighted person sees it (bench/pagetext.py: nothing folded, nothing for
screen readers only), and prints its Flesch-Kincaid grade (textstat), highest
first. Each heading, label and list item counts as a sentence, as it reads.
The target is grade 8 or below; tests/test_plain_words.py holds every page
to it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_GRADE = 8.0
# Spanish pages: Fernández-Huerta reading ease (higher is easier; 70 and over reads
# as "fairly easy", what patient materials aim for), textstat's, over the same text.
TARGET_EASE_ES = 70.0


def grade(html: str) -> tuple[float, int]:
    """(Flesch-Kincaid grade, words) of a page's main text."""
    import textstat

    from bench.pagetext import sentences, visible_text, words

    text = visible_text(html)
    return textstat.flesch_kincaid_grade(sentences(text)), len(words(text))


def ease_es(html: str) -> tuple[float, int]:
    """(Fernández-Huerta reading ease, words) of a Spanish page's main text."""
    from textstat.textstat import textstatistics

    from bench.pagetext import sentences, visible_text, words

    reader = textstatistics()  # its own: textstat's module-wide one stays English
    reader.set_lang("es")
    text = visible_text(html)
    return reader.fernandez_huerta(sentences(text)), len(words(text))


def patient_world():
    """A patient with a draft and a sent request, a checked record, a
    specialist in the directory: enough for every patient page to show."""
    from requests_app import services
    from tests.accounts.factories import UserFactory
    from tests.records.factories import RecordFactory
    from tests.requests_app.factories import CaseFactory
    from tests.specialists.factories import SpecialistFactory

    patient = UserFactory(email="linda@example.invalid", full_name="Linda Moore")
    draft = services.case_start(actor=patient)
    sent = CaseFactory(owner=patient, submitted=True)
    record = RecordFactory(case=sent, title="Biopsy report")
    # A CT scan whose pictures are ready: "Your scans" and the viewer (records.imaging).
    from tests.records.imaging.rendered import study_record

    study_record(sent, title="Chest CT")
    # Fixed names: a random long name would move a short page's grade.
    specialist = SpecialistFactory(
        accepting_cases=True, user__full_name="Helen Marsh", institution="Lakeside Hospital"
    )
    return patient, draft, sent, record, specialist


def patient_pages(*, draft, sent, record, specialist) -> list[tuple[str, str]]:
    """(name, url) of every page a patient sees, in the order of their path."""
    from django.urls import reverse

    from requests_app.sections import SECTIONS

    pages = [
        ("Your requests", reverse("requests_app:dashboard")),
        ("Task list", reverse("requests_app:case_detail", args=[draft.uuid])),
        *[
            (
                f"Section: {section.title}",
                reverse("requests_app:case_section", args=[draft.uuid, section.key]),
            )
            for section in SECTIONS
        ],
        ("Check your answers", reverse("requests_app:case_check", args=[draft.uuid])),
        ("Request page", reverse("requests_app:case_detail", args=[sent.uuid])),
        ("Withdraw", reverse("requests_app:case_withdraw", args=[sent.uuid])),
        ("Medical records", reverse("records:case_records", args=[sent.uuid])),
        ("A record", reverse("records:detail", args=[record.uuid])),
        ("Your scans", reverse("imaging:scans", args=[sent.uuid])),
        ("A scan's pictures", reverse("imaging:viewer", args=[_first_series(sent).uuid])),
        ("Messages", reverse("messaging:thread", args=[sent.uuid])),
        ("Notifications", reverse("notifications:list")),
        ("Email preferences", reverse("notifications:preferences")),
        ("Specialist directory", reverse("directory:list")),
        ("A specialist", reverse("directory:detail", args=[specialist.public_id])),
        ("Email addresses", reverse("account_email")),
        ("Change password", reverse("account_change_password")),
        ("Two-factor authentication", reverse("mfa_index")),
        ("Confirm your password", reverse("account_reauthenticate")),
        ("Set up two-factor", reverse("mfa_activate_totp")),
        ("Signed-in devices", reverse("usersessions_list")),
        ("Your caregivers", reverse("caregivers:list")),
    ]
    return pages


def _first_series(case):
    from records.imaging.models import Series

    return Series.objects.filter(record__case=case).order_by("position").first()


def sign_in(patient):
    """Through the sign-in page, so the two-factor set-up needs no second sign-in."""
    from django.test import Client
    from django.urls import reverse

    from tests.accounts.factories import PASSWORD

    client = Client()
    client.post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    # Setting up two-factor asks for the password again (allauth's reauthentication).
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return client


def grades(client, pages, *, measure=grade, language="en") -> list[tuple[str, float, int]]:
    """Each page as the signed-in patient sees it, and the home page signed out
    (in `language`: its browser asks for it)."""
    from django.test import Client
    from django.urls import reverse

    home = Client(headers={"accept-language": language}).get(reverse("home"))
    rows = [("Home (signed out)", *measure(home.content.decode()))]
    for name, url in pages:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        rows.append((name, *measure(response.content.decode())))
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reading-grade-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/db.sqlite3"
        os.environ["DJANGO_DEBUG"] = "true"
        os.environ["MEDIA_ROOT"] = f"{tmp}/media"
        os.environ["LOG_LEVEL"] = "ERROR"
        for name in ("REDIS_URL", "CACHE_REDIS_URL", "CELERY_BROKER_URL"):
            os.environ.pop(name, None)
        os.environ["DJANGO_SETTINGS_MODULE"] = "secondop.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import override_settings

        call_command("migrate", verbosity=0)
        patient, draft, sent, record, specialist = patient_world()
        pages = patient_pages(draft=draft, sent=sent, record=record, specialist=specialist)
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            client = sign_in(patient)
            rows = grades(client, pages)
            patient.language = "es"
            patient.save(update_fields=["language"])
            rows_es = grades(client, pages, measure=ease_es, language="es")
    print(f"{'page':<42}{'grade':>7}{'words':>7}")
    for name, value, count in sorted(rows, key=lambda r: -r[1]):
        flag = "  over" if value > TARGET_GRADE else ""
        print(f"{name:<42}{value:>7.1f}{count:>7}{flag}")
    over = [r for r in rows if r[1] > TARGET_GRADE]
    print(
        f"{len(rows)} patient pages; {len(over)} above grade {TARGET_GRADE:g}; highest "
        f"{max(r[1] for r in rows):.1f}.\n"
    )
    print(f"{'página (en español)':<42}{'F-H':>7}{'words':>7}")
    for name, value, count in sorted(rows_es, key=lambda r: r[1]):
        flag = "  under" if value < TARGET_EASE_ES else ""
        print(f"{name:<42}{value:>7.1f}{count:>7}{flag}")
    under = [r for r in rows_es if r[1] < TARGET_EASE_ES]
    print(
        f"{len(rows_es)} patient pages in Spanish; {len(under)} below Fernández-Huerta "
        f"{TARGET_EASE_ES:g}; lowest {min(r[1] for r in rows_es):.1f}."
    )


if __name__ == "__main__":
    main()
