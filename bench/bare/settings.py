"""The floor for bench/pages.py: the smallest Django project that does what a
page does at all. No apps, no middleware, no sessions: a URL, one query on the
same PostgreSQL database, a small template. Served by the same gunicorn
settings as SecondOp, so the ratio of a page to this is what SecondOp's own
work costs (middleware, session, user, queries, templates)."""

from pathlib import Path

import environ

env = environ.Env()

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1"])
ROOT_URLCONF = "bench.bare.urls"
WSGI_APPLICATION = "bench.bare.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
    }
]
# The same connection handling as SecondOp's settings: persistent, health-checked.
DATABASES = {"default": {**env.db("DATABASE_URL"), "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}}
USE_TZ = True
TIME_ZONE = "America/New_York"
