"""The settings the tests run with: the project's own, with DEBUG allowed at
import (as DJANGO_DEBUG=true allows it) so that a test may use the embedded
conveniences it does not replace itself. The real services come from the
environment (scripts/test); Django's test runner turns DEBUG off while tests
run. tests/platform/test_production.py starts the real module with DEBUG off."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from secondop.settings import *  # noqa: F403

# Argon2 as production uses it, with the cost turned down: a test suite hashes
# hundreds of passwords, and each costs ~130 ms at production strength.
PASSWORD_HASHERS = ["tests.settings.QuickArgon2PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405

from django.contrib.auth.hashers import Argon2PasswordHasher  # noqa: E402


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1


# Local record files go to a fresh folder per run, never into the checkout's media/.
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="secondop-test-media-"))
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    },
}

# Tasks run eagerly in the tests (tests/conftest.py), so each email goes at once, as
# on the embedded default; the digest tests set a window themselves.
from datetime import timedelta  # noqa: E402

NOTIFICATIONS_DIGEST_WINDOW = timedelta(0)
