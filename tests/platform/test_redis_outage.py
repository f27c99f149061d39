"""Redis stops while people use the app: no error page, nothing lost.

A private Redis (never the shared one) serves as the cache, the session cache and the
broker; a real Celery worker with beat inside it runs the sweeps. Redis is stopped
while a patient and a coordinator load their pages and the patient sends a request,
then started again: every page answered, the request is sent, and the coordinators'
notifications arrive within 2 minutes of Redis coming back.
"""

import os
import time

import pytest
from django.urls import reverse

from requests_app.models import Case, CaseStatus
from secondop.notifications.models import EmailStatus, Notification
from tests.helpers import free_port, wait_until
from tests.notifications.conftest import RedisServer, Workers
from tests.requests_app.factories import CaseFactory

pytestmark = [pytest.mark.services]


@pytest.fixture
def private_redis(tmp_path, settings):
    """A Redis of this test's own, used as the cache and the broker, as in production."""
    from secondop.celery import app

    server = RedisServer(free_port(), tmp_path)
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    app.conf.broker_url = server.url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield server
    finally:
        server.stop()
        app.conf.task_always_eager = True


def test_pages_and_a_submit_work_while_redis_is_down_and_notices_follow_its_return(
    private_redis, transactional_db, patient, coordinator, tmp_path, caplog
):
    from django.core.cache import cache
    from django.test import Client

    assert cache.set("probe", 1) is None and cache.get("probe") == 1  # the private Redis
    case = CaseFactory(owner=patient, complete=True)
    sent = CaseFactory(owner=patient, submitted=True)
    workers = Workers(private_redis, tmp_path)
    # Beat inside the worker, with the sweep shortened for the test.
    workers.start(
        {"NOTIFICATIONS_SWEEP_EVERY": "5", "NOTIFICATIONS_SWEEP_AFTER": "5"},
        ("-B", "--schedule", str(tmp_path / "beat-schedule")),
    )
    try:
        patient_client, staff_client = Client(), Client()
        patient_client.force_login(patient)
        staff_client.force_login(coordinator)
        patient_pages = [
            reverse("requests_app:dashboard"),
            reverse("requests_app:case_detail", args=[sent.uuid]),
            reverse("requests_app:case_check", args=[case.uuid]),
            reverse("notifications:list"),
        ]
        staff_pages = [
            reverse("requests_app:coordinator_home"),
            reverse("requests_app:staff_case", args=[sent.uuid]),
        ]

        private_redis.stop()
        statuses = [patient_client.get(url).status_code for url in patient_pages]
        statuses += [staff_client.get(url).status_code for url in staff_pages]
        submit = patient_client.post(reverse("requests_app:case_submit", args=[case.uuid]))
        statuses.append(submit.status_code)
        statuses.append(patient_client.get(submit["Location"]).status_code)
        assert statuses == [200] * 6 + [302, 200]
        assert "Redis cache unavailable" in caplog.text
        case.refresh_from_db()
        assert case.status == CaseStatus.SUBMITTED and case.reference
        notices = Notification.objects.filter(recipient=coordinator, reference=case.reference)
        assert notices.exists()
        assert not notices.filter(delivered_at__isnull=False).exists()  # nothing could queue

        private_redis.start()
        back = time.monotonic()
        # Signed-in pages keep working once it is back, on the same sessions.
        assert patient_client.get(patient_pages[0]).status_code == 200
        wait_until(
            lambda: (
                not notices.exclude(email_status=EmailStatus.SENT).exists()
                and not notices.filter(delivered_at__isnull=True).exists()
            ),
            120,
            1,
        )
        assert time.monotonic() - back < 120
        assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
        assert any(case.reference in p.read_text() for p in workers.mail_dir.glob("*.log"))
    finally:
        workers.stop_all()


def test_a_stale_database_connection_after_a_restart_is_never_used(
    transactional_db, client, patient
):
    """The server ended the connection (a PostgreSQL restart, a failover) between two
    requests: the next request checks its persistent connection before using it
    (CONN_HEALTH_CHECKS) and opens a new one instead of answering 500."""
    from django.db import close_old_connections, connection, connections

    if connection.vendor != "postgresql":
        if os.environ.get("CI") or os.environ.get("SECONDOP_REQUIRE_SERVICES"):
            pytest.fail(
                "persistent connections are PostgreSQL's (the suite's database): required in CI",
                pytrace=False,
            )
        pytest.skip("persistent connections are PostgreSQL's (the suite's database)")
    client.force_login(patient)
    url = reverse("requests_app:dashboard")
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60  # a web process's persistent connection
    try:
        assert client.get(url).status_code == 200
        old_pid = connection.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
            wait_until(lambda: _backend_gone(other, old_pid), 10, 0.1)
        finally:
            other.close()
        # What Django's WSGI handler does as every request starts (the test client
        # leaves it out).
        close_old_connections()
        assert client.get(url).status_code == 200
        assert connection.connection.info.backend_pid != old_pid
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = max_age


def _backend_gone(other, pid: int) -> bool:
    with other.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0
