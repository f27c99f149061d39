"""The access request as a PDF (WeasyPrint), from templates/retrieval/letter_pdf.html.

As the report's PDF (requests_app.reports.pdf): the stylesheet is handed beside the
HTML, and every URL fetch is refused, so nothing a person typed (a source's name or
address) can make the renderer reach a file or a server. System fonts (DejaVu)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from requests_app.times import patient_zone_name

from .letter import letter_context
from .models import RecordSource


def render_letter(source: RecordSource, *, upload_url: str = "") -> bytes:
    import weasyprint  # on first use: its import parses stylesheets

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    case = source.case
    with translation.override(settings.LANGUAGE_CODE), timezone.override(patient_zone_name(case)):
        html = render_to_string(
            "retrieval/letter_pdf.html", letter_context(source, case, upload_url=upload_url)
        )
        css = render_to_string("retrieval/letter_pdf.css")
    fetcher = weasyprint.URLFetcher(allowed_protocols=frozenset())
    stylesheet = weasyprint.CSS(string=css, url_fetcher=fetcher)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], pdf_tags=True
    )


def letter_filename(source: RecordSource) -> str:
    reference = source.case.reference or "draft"
    return f"records-request-{reference}-{str(source.uuid)[:8]}.pdf"
