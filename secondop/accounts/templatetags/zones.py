"""Times as their reader reads them: `{{ when|local_time }}` gives "7 December
2026, 9:40 PM EST" ("7 de diciembre de 2026, ..." in Spanish: the language's
DATE_FORMAT, secondop.formats) in the active zone (secondop.timezones.TimeZoneMiddleware);
`{{ when|local_time:"j M Y" }}` changes the date part, `{{ when|local_time:"" }}`
leaves only the clock and the zone. A builtin: no {% load %} needed."""

from django import template

from secondop.timezones import format_local

register = template.Library()


@register.filter(expects_localtime=False)
def local_time(value, date_fmt: str = "DATE_FORMAT") -> str:
    if not value:
        return ""
    return format_local(value, date_fmt)
