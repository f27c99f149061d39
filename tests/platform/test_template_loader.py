"""The templates are read and compiled once per process: the cached loader is on."""

from django.conf import settings
from django.template import engines
from django.template.loaders.cached import Loader as CachedLoader


def test_the_settings_leave_the_loaders_to_django_which_caches_them():
    # No "loaders" option: Django then wraps the filesystem and app loaders in its
    # cached loader, with DEBUG on or off (Django 4.1 and later).
    assert "loaders" not in settings.TEMPLATES[0].get("OPTIONS", {})
    loaders = engines["django"].engine.template_loaders
    assert len(loaders) == 1 and isinstance(loaders[0], CachedLoader)


def test_a_template_is_compiled_once():
    engine = engines["django"].engine
    first = engine.get_template("base.html")
    assert engine.get_template("base.html") is first
