"""The SMART Health Link on paper: a cover page with the link's QR code, then the
signed report's pages as they are stored, in one PDF to print or fax.

The signed PDF itself is never changed: its SHA-256 is what the report's
verification code and the FHIR Bundle vouch for, so a QR code cannot be drawn into
it. The cover is rendered apart (WeasyPrint, nothing fetched: the QR code is inline
SVG) and the stored pages, checked against their hash, are appended after it.
Nothing here is kept: the link's key reaches the server only in the patient's
request for the cover, as when it was shown."""

from __future__ import annotations

import io
import logging

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from requests_app.reports.models import ReportVersion
from requests_app.times import patient_zone_name

from .models import SmartLink


class CoverUnavailable(Exception):
    """The signed PDF, though it matches its hash, cannot be opened to be appended."""


def render_cover(*, link: SmartLink, version: ReportVersion, text: str, report_pdf: bytes) -> bytes:
    import pypdfium2
    import weasyprint

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    share = link.share
    case = share.report.case
    qr = segno.make(text, error="m", micro=False)
    with translation.override(settings.LANGUAGE_CODE), timezone.override(patient_zone_name(case)):
        html = render_to_string(
            "aftercare/smart_link_cover_pdf.html",
            {
                "case": case,
                "share": share,
                "version": version,
                "has_passcode": link.has_passcode,
                # segno writes the SVG itself from the link's bits: no markup of ours.
                "qr_svg": mark_safe(qr.svg_inline(scale=5, border=4)),  # noqa: S308
            },
        )
        css = render_to_string("aftercare/smart_link_cover_pdf.css")
    fetcher = weasyprint.URLFetcher(allowed_protocols=frozenset())
    stylesheet = weasyprint.CSS(string=css, url_fetcher=fetcher)
    cover = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], pdf_tags=True
    )
    document = pypdfium2.PdfDocument(cover)
    try:
        report = pypdfium2.PdfDocument(report_pdf)
    except pypdfium2.PdfiumError as error:
        document.close()
        raise CoverUnavailable(str(version)) from error
    try:
        document.import_pages(report)
        out = io.BytesIO()
        document.save(out)
    finally:
        report.close()
        document.close()
    return out.getvalue()


def cover_filename(case_reference: str, version: ReportVersion) -> str:
    return f"second-opinion-{case_reference}-v{version.number}-with-qr-code.pdf"
