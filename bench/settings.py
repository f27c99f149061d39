"""Settings for bench/pages.py's SecondOp server: the project's own settings, whole,
plus one bench-only URL, the signed-in floor (bench/signed_in). Never used in
production: only bench/pages.py points DJANGO_SETTINGS_MODULE here, and
secondop/urls.py does not know the floor."""

from secondop.settings import *  # noqa: F403
from secondop.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.signed_in.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "signed_in" / "templates"]
