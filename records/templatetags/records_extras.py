from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from records.models import State

register = template.Library()

TAGS = {
    State.PENDING: "grey", State.UPLOADED: "blue", State.SCANNING: "blue",
    State.VERIFIED: "green", State.REJECTED: "red",
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
    "application/pdf": _("PDF document"),
    "image/jpeg": _("JPEG picture"),
    "image/png": _("PNG picture"),
    "image/tiff": _("TIFF picture"),
    "image/heic": _("iPhone photo (HEIC)"),
    "image/heif": _("iPhone photo (HEIF)"),
    "application/dicom": _("Medical scan images"),
    "text/plain": _("Text file"),
    "text/csv": _("Spreadsheet (CSV)"),
    "application/zip": _("ZIP folder"),
}


@register.filter
def type_in_words(mime: str) -> str:
    """"PDF document", not "application/pdf": what a patient reads."""
    return str(TYPES_IN_WORDS.get((mime or "").split(";")[0].strip().lower(), _("Other file")))


@register.simple_tag
def record_state_tag(record):
    return format_html('<span class="tag tag-{}">{}</span>', TAGS.get(record.state, "grey"),
                       record.get_state_display())
