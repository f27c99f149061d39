"""Fixtures every test may use: the people (an owner patient, an outsider, a
coordinator, a specialist, an admin) and a clean slate per test. Services live
beside the tests that need them: S3 in tests/s3.py (shared: records and e2e use it
too), Redis and a Celery worker in tests/notifications/conftest.py, the browser in
tests/e2e/."""

import os

import pytest

from tests.accounts.factories import UserFactory, enrol_totp
from tests.s3 import s3_server, s3_storage  # noqa: F401 (fixtures)

REQUIRE_SERVICES = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("SECONDOP_REQUIRE_SERVICES")
)


def pytest_configure(config):
    from django.conf import settings

    if REQUIRE_SERVICES:
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            raise pytest.UsageError(
                f"The test suite runs on PostgreSQL (DATABASE_URL), not {engine}. Use scripts/test."
            )
        if not settings.REDIS_URL:
            raise pytest.UsageError("REDIS_URL must point at a Redis server. Use scripts/test.")


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_triggers():
    """Transactional tests (e2e, the Celery worker) end with Django's flush, one TRUNCATE
    of every table, which the audit logs' triggers refuse. The test rig is the tables'
    owner: it pauses their triggers inside the flush's own transaction. Production
    code has no such way round them (secondop/audit/append_only.py)."""
    from django.db import connection

    from secondop.audit.append_only import flush_guard_statements

    operations = type(connection.ops)
    sql_flush = operations.sql_flush

    def sql_flush_past_triggers(self, style, tables, **kwargs):
        return flush_guard_statements(
            self.connection.vendor, sql_flush(self, style, tables, **kwargs)
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", sql_flush_past_triggers)
        yield


@pytest.fixture(autouse=True)
def _isolation(settings):
    """Each test starts with an empty cache (rate limits, TOTP replay marks) and
    eager tasks; the worker tests switch to the real broker themselves."""
    from django.core.cache import cache
    from django.utils import translation

    from secondop.audit.context import audit_source
    from secondop.celery import app

    cache.clear()
    # A request served in Spanish leaves the thread in Spanish (as any Django thread
    # until its next request): each test starts in English.
    translation.activate(settings.LANGUAGE_CODE)
    app.conf.task_always_eager = True
    settings.SITE_URL = "http://testserver"
    # What a test writes by calling services directly comes from "test"; requests
    # through the client or the live server, and tasks, set their own source.
    with audit_source("test"):
        yield
    app.conf.task_always_eager = True


@pytest.fixture
def patient(db):
    return UserFactory(role="patient", email="pat@example.com", full_name="Pat Patient")


@pytest.fixture
def outsider(db):
    return UserFactory(role="patient", email="olly@example.com", full_name="Olly Outsider")


@pytest.fixture
def coordinator(db):
    user = UserFactory(role="coordinator", email="cora@example.com", full_name="Cora Coordinator")
    enrol_totp(user)
    return user


@pytest.fixture
def specialist(db):
    user = UserFactory(role="specialist", email="spec@example.com", full_name="Dr. Spec")
    enrol_totp(user)
    return user


@pytest.fixture
def admin_user(db):
    user = UserFactory(
        role="admin",
        email="ada@example.com",
        full_name="Ada Admin",
        is_staff=True,
        is_superuser=True,
    )
    enrol_totp(user)
    return user


@pytest.fixture
def staff_without_mfa(db):
    """A coordinator who has not enrolled an authenticator yet."""
    return UserFactory(role="coordinator", email="newbie@example.com", full_name="New Staff")
