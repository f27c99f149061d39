"""The signed report as a PDF (WeasyPrint), from templates/reports/pdf.html.

The document fetches nothing: its stylesheet is inlined from
templates/reports/pdf.css and every URL fetch is refused, so what a specialist or
patient typed can never make the renderer reach a file or a server. Fonts are
the system's (Debian's DejaVu in the image)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from secondop.languages import language_of
from secondop.timezones import state_zone_name

from . import codes
from .models import ReportVersion
from .wording import citations, opinion_words

if TYPE_CHECKING:
    from requests_app.models import Case


def verify_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("reports:verify")


def document_context(version: ReportVersion, *, case: Case | None = None) -> dict:
    """What the PDF and the reading pages show of a version (answers and records
    in their order). `case`: the version's case, when the caller has it."""
    if case is None:
        case = version.report.case
    return {
        "version": version,
        "case": case,
        "answers": list(version.answers.all()),
        "reviewed": list(version.reviewed.all()),
        "words": opinion_words(version),
        **citations(version),
        "code": codes.grouped(version.verification_code or ""),
        "verify_url": verify_url(),
    }


def render_version(version: ReportVersion) -> bytes:
    # Imported here: WeasyPrint parses its own stylesheets on import, which every
    # process that loads the URLs (every manage.py command) would pay for.
    import weasyprint

    # Its per-step progress ("Step 2 - Fetching and parsing CSS") is noise in a log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    # The document's times are the patient's (their state's zone), whoever's process
    # renders it; each carries its zone's abbreviation.
    zone = state_zone_name(version.report.case.patient_state) or settings.TIME_ZONE
    # Its fixed words in the patient's language (the specialist's own stay as written).
    language = language_of(version.report.case.owner)
    with translation.override(language), timezone.override(zone):
        html = render_to_string("reports/pdf.html", document_context(version))
        css = render_to_string("reports/pdf.css")
    # No fetch of any kind: no protocol is allowed. The stylesheet is given beside the
    # HTML (no <style> in a template: the CSP guard test holds for every template).
    fetcher = weasyprint.URLFetcher(allowed_protocols=frozenset())
    stylesheet = weasyprint.CSS(string=css, url_fetcher=fetcher)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], pdf_tags=True
    )
