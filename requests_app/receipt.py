"""The itemised receipt a patient sends their insurer for reimbursement (PDF,
WeasyPrint, like the report's: its stylesheet beside it, every fetch refused).

It lists the services delivered with the fee agreed for each, and says plainly
that SecondOp took no payment in the app: it does not pretend to charge."""

from __future__ import annotations

import logging

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .fees import items_total, money
from .models import Case, CaseStatus


def receipt_context(case: Case) -> dict:
    delivered = (
        case.events.filter(new_status=CaseStatus.DELIVERED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    items = [
        {"label": line["label"], "amount": money(line["amount"], line["currency"])}
        for line in case.fee_items
    ]
    listed = items_total(case.fee_items) if case.fee_items else None
    return {
        "case": case,
        "issued_on": timezone.localdate(),
        "delivered_at": delivered,
        "items": items,
        "listed_total": money(listed, case.fee_currency) if listed is not None else "",
        # What insurance takes off the list prices, when the patient pays less.
        "difference": (
            money(listed - case.fee_quoted, case.fee_currency)
            if listed is not None and listed > case.fee_quoted
            else ""
        ),
        "total": money(case.fee_quoted, case.fee_currency),
        "specialist": case.specialist,
        "profile": getattr(case.specialist, "specialist_profile", None)
        if case.specialist_id
        else None,
    }


def render_receipt(case: Case) -> bytes:
    # Imported here, as in reports.pdf: WeasyPrint is slow to import.
    import weasyprint

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("requests_app/receipt_pdf.html", receipt_context(case))
        css = render_to_string("requests_app/receipt_pdf.css")
    fetcher = weasyprint.URLFetcher(allowed_protocols=frozenset())
    stylesheet = weasyprint.CSS(string=css, url_fetcher=fetcher)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], pdf_tags=True
    )
