"""The audit logs are append-only in the database itself: triggers refuse UPDATE, DELETE
and TRUNCATE whoever asks (PostgreSQL, and SQLite for the embedded default), and the
runtime role has no right to try, nor to drop or disable the triggers."""

import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from requests_app.notices import CASE_UPDATE
from secondop.audit import append_only
from secondop.audit.context import request_audit_source
from secondop.audit.models import AccessLog, AuditEvent
from secondop.audit.services import log_access, log_event
from secondop.notifications.models import EmailStatus, Notification

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def _postgresql():
    """These tests are about PostgreSQL roles and triggers: on another database
    they fail (the suite runs on PostgreSQL), never skip."""
    assert connection.vendor == "postgresql", "run the suite on PostgreSQL (scripts/test)"


postgres_only = pytest.mark.usefixtures("_postgresql")


def _row(model, actor):
    if model is AuditEvent:
        return log_event(actor=actor, action="x.y.z", obj=actor)
    return log_access(viewer=actor, obj=actor)


@contextmanager
def _as_role(role: str):
    """Run the block as `role`, in a savepoint: an error rolls the role back with it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        yield cursor
        cursor.execute("RESET ROLE")


def _sql(template: str, table: str) -> str:
    """A statement on one of our own tables: the names are constants, never input."""
    return template.format(table=table)


def _refused(sql_or_callable, match: str, role: str | None = None, params=None):
    context = _as_role(role) if role else transaction.atomic()
    with pytest.raises(DatabaseError, match=match), context:
        if callable(sql_or_callable):
            sql_or_callable()
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql_or_callable, params)


def _check_deferred_constraints_now():
    """TRUNCATE refuses a table with deferred foreign-key checks pending (the rows
    this test inserted); check them now so that TRUNCATE gets as far as the trigger."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def runtime_role(db):
    """A fresh role with the runtime grants. Roles are cluster-wide, but CREATE ROLE and
    the grants are transactional: the test's rollback removes them again."""
    role = f"secondop_test_runtime_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    append_only.grant_runtime_role(connection=connection, role=role)
    return role


# --- The owner (and anyone else): the triggers -----------------------------------


@postgres_only
@pytest.mark.parametrize("model", [AuditEvent, AccessLog])
def test_it_refuses_update_delete_and_truncate_in_raw_sql(model, coordinator):
    row = _row(model, coordinator)
    table = model._meta.db_table
    _refused(
        _sql("UPDATE {table} SET object_repr = 'rewritten' WHERE id = %s", table),
        "append-only",
        params=[row.pk],
    )
    _refused(_sql("DELETE FROM {table} WHERE id = %s", table), "append-only", params=[row.pk])
    _check_deferred_constraints_now()
    _refused(f"TRUNCATE {table}", "append-only")
    row.refresh_from_db()
    assert row.object_repr == str(coordinator)


@postgres_only
def test_a_truncate_that_cascades_from_the_users_stops_at_the_logs(coordinator):
    log_event(actor=coordinator, action="x.y.z")
    _check_deferred_constraints_now()
    _refused("TRUNCATE accounts_user CASCADE", "append-only")
    assert AuditEvent.objects.filter(actor=coordinator).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_test_rig_flush_empties_the_logs_and_leaves_the_triggers_on(coordinator):
    log_event(actor=coordinator, action="x.y.z")
    # What TransactionTestCase runs after each test (tests/conftest.py lets it past the triggers).
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    assert not AuditEvent.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[]) "
            "AND NOT tgisinternal",
            [list(append_only.TABLES)],
        )
        triggers = dict(cursor.fetchall())
    assert triggers == {
        f"{table}_{name}": "O"
        for table in append_only.TABLES
        for name in ("append_only", "no_truncate")
    }
    _refused("TRUNCATE audit_accesslog", "append-only")


# --- The runtime role: privileges --------------------------------------------------


@postgres_only
def test_the_runtime_role_adds_and_reads_log_rows(runtime_role, coordinator, rf):
    with _as_role(runtime_role):
        event = log_event(actor=coordinator, action="x.y.z", obj=coordinator)
        with request_audit_source(rf.get("/p/")):
            entry = log_access(viewer=coordinator, obj=coordinator)
        assert AuditEvent.objects.get(pk=event.pk).action == "x.y.z"
        assert AccessLog.objects.filter(pk=entry.pk, path="/p/").exists()


@postgres_only
@pytest.mark.parametrize("model", [AuditEvent, AccessLog])
def test_the_runtime_role_may_not_update_delete_or_truncate(model, runtime_role, coordinator):
    row = _row(model, coordinator)
    table = model._meta.db_table
    rows = model.objects.filter(pk=row.pk)
    denied = "permission denied"
    _refused(lambda: rows.update(object_repr="rewritten"), denied, runtime_role)
    _refused(lambda: rows.delete(), denied, runtime_role)
    _refused(
        _sql("UPDATE {table} SET object_repr = 'rewritten' WHERE id = %s", table),
        denied,
        runtime_role,
        params=[row.pk],
    )
    _refused(
        _sql("DELETE FROM {table} WHERE id = %s", table), denied, runtime_role, params=[row.pk]
    )
    _refused(f"TRUNCATE {table}", denied, runtime_role)
    assert rows.get().object_repr == str(coordinator)


@postgres_only
@pytest.mark.parametrize("table", append_only.TABLES)
def test_the_runtime_role_cannot_drop_or_disable_the_triggers(table, runtime_role):
    _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL", "must be owner", runtime_role)
    _refused(
        f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only", "must be owner", runtime_role
    )
    _refused(f"DROP TRIGGER {table}_no_truncate ON {table}", "must be owner", runtime_role)
    _refused(f"ALTER TABLE {table} OWNER TO {runtime_role}", "must be owner", runtime_role)


@postgres_only
def test_the_runtime_role_changes_and_deletes_ordinary_rows(runtime_role, patient):
    notification = Notification.objects.create(
        recipient=patient, kind=CASE_UPDATE, title="t", email_status=EmailStatus.SKIPPED
    )
    with _as_role(runtime_role):
        Notification.objects.filter(pk=notification.pk).update(title="changed")
        assert Notification.objects.get(pk=notification.pk).title == "changed"
        Notification.objects.filter(pk=notification.pk).delete()
        assert not Notification.objects.filter(pk=notification.pk).exists()


@postgres_only
def test_tables_a_later_migration_creates_get_the_ordinary_rights(runtime_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE audit_test_later (id bigint GENERATED BY DEFAULT AS IDENTITY, v int)"
        )
    with _as_role(runtime_role) as cursor:
        cursor.execute("INSERT INTO audit_test_later (v) VALUES (1)")
        cursor.execute("UPDATE audit_test_later SET v = 2")
        cursor.execute("DELETE FROM audit_test_later")


@postgres_only
def test_granting_again_changes_nothing(runtime_role):
    def privileges():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = %s ORDER BY 1, 2",
                [runtime_role],
            )
            return cursor.fetchall()

    before = privileges()
    append_only.grant_runtime_role(connection=connection, role=runtime_role)
    assert privileges() == before
    assert {p for t, p in before if t in append_only.TABLES} == {"INSERT", "SELECT"}
    assert {p for t, p in before if t == "notifications_notification"} == {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
    }


@postgres_only
def test_it_refuses_a_role_that_could_become_the_owner(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        role = f"secondop_test_member_{uuid.uuid4().hex[:12]}"
        cursor.execute(f"CREATE ROLE {role} NOLOGIN IN ROLE {owner}")
    with pytest.raises(append_only.RuntimeRoleError, match="owner"):
        append_only.grant_runtime_role(connection=connection, role=role)
    with pytest.raises(append_only.RuntimeRoleError, match="superuser"):
        append_only.grant_runtime_role(connection=connection, role=owner)
    with pytest.raises(append_only.RuntimeRoleError, match="does not exist"):
        append_only.grant_runtime_role(connection=connection, role="secondop_no_such_role")
    with pytest.raises(append_only.RuntimeRoleError, match="plain"):
        append_only.grant_runtime_role(connection=connection, role="x; DROP TABLE audit_auditevent")


@postgres_only
def test_the_command_grants_the_configured_role(runtime_role, settings, capsys):
    settings.DATABASE_RUNTIME_ROLE = runtime_role
    call_command("grant_runtime_role")
    assert f"{runtime_role}: SELECT, INSERT on the audit logs" in capsys.readouterr().out


def test_the_command_does_nothing_without_a_role(db, settings, capsys):
    settings.DATABASE_RUNTIME_ROLE = ""
    call_command("grant_runtime_role")
    assert "nothing to grant" in capsys.readouterr().out


# --- SQLite (the embedded default) -------------------------------------------------


def test_the_sqlite_triggers_refuse_update_and_delete():
    """The migration's SQLite statements, on minimal copies of the two tables."""
    db = sqlite3.connect(":memory:")
    for table in append_only.TABLES:
        db.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, object_repr text)")
    for statement in append_only.guard_sql("sqlite"):
        db.execute(statement)
    for table in append_only.TABLES:
        db.execute(_sql("INSERT INTO {table} (object_repr) VALUES ('kept')", table))
        with pytest.raises(sqlite3.IntegrityError, match=f"append-only \\(UPDATE on {table}\\)"):
            db.execute(_sql("UPDATE {table} SET object_repr = 'rewritten'", table))
        with pytest.raises(sqlite3.IntegrityError, match=f"append-only \\(DELETE on {table}\\)"):
            db.execute(_sql("DELETE FROM {table}", table))
        assert db.execute(_sql("SELECT object_repr FROM {table}", table)).fetchall() == [("kept",)]

    # The test rig's flush, in one transaction: emptied, and the triggers are back.
    with db:
        for statement in append_only.flush_guard_statements(
            "sqlite", [_sql("DELETE FROM {table}", table) for table in append_only.TABLES]
        ):
            db.execute(statement)
    db.execute("INSERT INTO audit_accesslog (object_repr) VALUES ('new')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_accesslog")
    assert db.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (0,)


ORM_ATTEMPTS = """
from django.db import DatabaseError
from secondop.audit.models import AccessLog, AuditEvent
for model in (AuditEvent, AccessLog):
    row = model.objects.create(object_type="t", object_repr="kept")
    rows = model.objects.filter(pk=row.pk)
    for name, attempt in [("update", lambda: rows.update(object_repr="x")), ("delete", rows.delete)]:
        try:
            attempt()
            print(model.__name__, name, "allowed")
        except DatabaseError as exc:
            print(model.__name__, name, "refused:", exc)
    print(model.__name__, "kept" if rows.get().object_repr == "kept" else "changed")
"""


def test_the_migrations_guard_a_sqlite_database(tmp_path):
    """The real migrations on a SQLite file (as `scripts/run` makes it): any later
    migration that rebuilds an audit table and loses the triggers fails here."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
    }

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "audit", "--noinput")
    out = manage("shell", "-c", ORM_ATTEMPTS)
    for model in ("AuditEvent", "AccessLog"):
        for op in ("update", "delete"):
            assert f"{model} {op} refused: audit logs are append-only" in out
        assert f"{model} kept" in out

    db = sqlite3.connect(tmp_path / "embedded.sqlite3")
    triggers = {
        name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert triggers == {f"{t}_no_{op}" for t in append_only.TABLES for op in ("update", "delete")}
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_auditevent")
    db.close()
