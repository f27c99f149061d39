"""SecondOp as secondop.wsgi serves it, with its static files read from the source
folders (WhiteNoise's finders) instead of collectstatic's output: the viewer's page
needs its script and style, and the bench must not write staticfiles/ into the tree.
Used by bench/viewer.py only."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
django.setup()

from django.conf import settings  # noqa: E402

settings.WHITENOISE_USE_FINDERS = True

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
