"""A signed-in device named in words ("Chrome on a Mac") from its user-agent
string, for the signed-in devices page. Deliberately simple: the browser and
the system people recognise, checked in the order that tells them apart (Edge
and Opera also say "Chrome", Chrome also says "Safari", every browser on an
iPhone is built on Safari). Anything else is "A browser we do not recognise"."""

import re

from django.utils.translation import gettext as _

# (pattern, name), first match wins.
BROWSERS = [
    (r"\bEdg(e|A|iOS)?/", "Edge"),
    (r"\b(OPR|Opera)/", "Opera"),
    (r"\bSamsungBrowser/", "Samsung Internet"),
    (r"\b(Firefox|FxiOS)/", "Firefox"),
    (r"\b(Chrome|CriOS|Chromium)/", "Chrome"),
    (r"\bVersion/[\d.]+.*Safari/", "Safari"),
]


def _system(ua: str) -> str:
    if "iPhone" in ua:
        return _("an iPhone")
    if "iPad" in ua:
        return _("an iPad")
    if "Android" in ua:
        return _("an Android phone") if "Mobile" in ua else _("an Android tablet")
    if "CrOS" in ua:
        return _("a Chromebook")
    if "Macintosh" in ua or "Mac OS X" in ua:
        return _("a Mac")
    if "Windows" in ua:
        return _("Windows")
    if "Linux" in ua:
        return _("Linux")
    return ""


def device_name(user_agent: str | None) -> str:
    ua = user_agent or ""
    browser = next((name for pattern, name in BROWSERS if re.search(pattern, ua)), "")
    system = _system(ua)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser:
        return browser
    if system:
        return _("A browser on %(system)s") % {"system": system}
    return _("A browser we do not recognise")
