from django import template
from django.utils.html import format_html

from records.models import State

register = template.Library()

TAGS = {
    State.PENDING: "grey", State.UPLOADED: "blue", State.SCANNING: "blue",
    State.VERIFIED: "green", State.REJECTED: "red",
}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def record_state_tag(record):
    return format_html('<span class="tag tag-{}">{}</span>', TAGS.get(record.state, "grey"),
                       record.get_state_display())
