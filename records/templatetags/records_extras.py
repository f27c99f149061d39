from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext as _

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


@register.simple_tag
def record_state_tag(record):
    if record.state == State.VERIFIED and record.virus_scan_skipped:
        # Checked (type, opens) but no scanner ran: never "checked" without saying so.
        return format_html('<span class="tag tag-yellow">{}</span>',
                           _("Ready, not checked for viruses"))
    return format_html('<span class="tag tag-{}">{}</span>', TAGS.get(record.state, "grey"),
                       record.get_state_display())


@register.simple_tag
def virus_scanner_configured() -> bool:
    """Whether this installation scans uploads at all (the settings require it
    outside DEBUG)."""
    return bool(settings.CLAMD_ADDRESS)
