from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from records.models import State

register = template.Library()

TAGS = {
    State.PENDING: "grey",
    State.UPLOADED: "blue",
    State.SCANNING: "blue",
    State.VERIFIED: "green",
    State.REJECTED: "red",
}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def bytes_size(size) -> str:
    """Sizes in decimal units, as the limits are written (5 GB is 5,000,000,000 bytes)."""
    from records.services import human_size

    return human_size(int(size or 0))


TYPES_IN_WORDS = {
    "application/pdf": gettext_lazy("PDF document"),
    "image/jpeg": gettext_lazy("JPEG picture"),
    "image/png": gettext_lazy("PNG picture"),
    "image/tiff": gettext_lazy("TIFF picture"),
    "image/heic": gettext_lazy("iPhone photo (HEIC)"),
    "image/heif": gettext_lazy("iPhone photo (HEIF)"),
    "application/dicom": gettext_lazy("Medical scan images"),
    "text/plain": gettext_lazy("Text file"),
    "text/csv": gettext_lazy("Spreadsheet (CSV)"),
    "application/zip": gettext_lazy("ZIP folder"),
    "application/xml": gettext_lazy("Health record summary (C-CDA)"),
    "application/fhir+json": gettext_lazy("Health record summary (FHIR)"),
    "application/fhir+ndjson": gettext_lazy("Health record summary (FHIR)"),
}


@register.filter
def type_in_words(mime: str) -> str:
    """ "PDF document", not "application/pdf": what a patient reads."""
    return str(TYPES_IN_WORDS.get((mime or "").split(";")[0].strip().lower(), _("Other file")))


@register.filter
def health_date(value) -> str:
    """A summary's ISO date ("2024", "2024-03", "2024-03-05") as people write it."""
    import datetime

    from django.utils.formats import date_format

    text = str(value or "")
    try:
        if len(text) == 10:
            return date_format(datetime.date.fromisoformat(text), "DATE_FORMAT")
        if len(text) == 7:
            return date_format(datetime.date.fromisoformat(text + "-01"), "YEAR_MONTH_FORMAT")
    except ValueError:
        return ""
    return text if len(text) == 4 and text.isdigit() else ""


IDENTITY_QUESTION = gettext_lazy("Labelled for another person?")


class StateTags:
    """A record's state as a coloured tag, each tag made once (a list of records
    shows the same few many times)."""

    def __init__(self) -> None:
        # Only its patient sees a record labelled for another person: the question is theirs.
        self.question = format_html('<span class="tag tag-yellow">{}</span>', IDENTITY_QUESTION)
        # Checked (type, opens) but no scanner ran: never "checked" without saying so.
        self.unscanned = format_html(
            '<span class="tag tag-yellow">{}</span>', _("Ready, not checked for viruses")
        )
        self.by_state = {
            state: format_html('<span class="tag tag-{}">{}</span>', TAGS.get(state, "grey"), label)
            for state, label in State.choices
        }

    def __call__(self, record) -> str:
        if record.state == State.VERIFIED and record.awaits_patient:
            return self.question
        if record.state == State.VERIFIED and record.virus_scan_skipped:
            return self.unscanned
        return self.by_state.get(record.state) or format_html(
            '<span class="tag tag-grey">{}</span>', record.get_state_display()
        )


@register.simple_tag
def record_state_tag(record):
    return StateTags()(record)


@register.simple_tag
def virus_scanner_configured() -> bool:
    """Whether this installation scans uploads at all (the settings require it
    outside DEBUG)."""
    return bool(settings.CLAMD_ADDRESS)
