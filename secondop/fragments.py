"""Parts of the layout that are the same for every reader of a language, rendered
once per process and language: `{% fragment "includes/stylesheets.html" %}`.

A fragment template sees no request, no user and no context of the page, only
the site's settings that the layout shows (`support_email`), so nothing about a
reader or a case can be kept: the stylesheet links and the footer are the same
for everyone who reads English, and again for Spanish. What is kept is this
process's memory, never a shared cache. The 35 stylesheet links alone cost a
page about 0.5 ms to render each time (bench/README.md, issue 23).

A settings change (the tests' override_settings of STATIC_URL or the storage)
forgets every fragment."""

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

_rendered: dict[tuple[str, str | None], SafeString] = {}


@register.simple_tag
def fragment(name: str) -> SafeString:
    """The template `name` rendered for the current language, once per process."""
    key = (name, get_language())
    html = _rendered.get(key)
    if html is None:
        html = mark_safe(  # noqa: S308 (a template's own output, escaped as it rendered)
            get_template(name).render({"support_email": settings.SECONDOP_SUPPORT_EMAIL})
        )
        _rendered[key] = html
    return html


def forget(**kwargs) -> None:
    _rendered.clear()


setting_changed.connect(forget, dispatch_uid="secondop.fragments.forget")
