from django import template

from secondop.accounts.devices import device_name as _device_name

register = template.Library()


@register.filter
def device_name(user_agent: str | None) -> str:
    """ "Chrome on a Mac" for the signed-in devices page."""
    return _device_name(user_agent)
