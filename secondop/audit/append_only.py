"""The database side of "the audit logs are append-only".

Three layers, each for a different threat:

- Triggers refuse UPDATE, DELETE (PostgreSQL: per row, migration 0002; SQLite: below)
  and TRUNCATE (PostgreSQL, per statement) whoever asks, so a bug, a shell session or a
  `TRUNCATE accounts_user CASCADE` cannot rewrite history by accident.
- Privileges: the runtime role (what web, worker and beat connect as, settings
  DATABASE_RUNTIME_ROLE) may only SELECT and INSERT the audit tables, and does not own
  them, so it can neither change rows nor drop or disable the triggers.
  Migrations run as a separate owner role; `manage.py grant_runtime_role` re-applies
  the grants after every `migrate` (docker/migrate.sh does).
- Only the owner can get past the triggers (ALTER TABLE ... DISABLE TRIGGER): the test
  rig does, inside its own flush (`flush_guard_statements`, tests/conftest.py).

Migration 0004 applies the SQL below: change it only together with a new migration.
On SQLite, a later migration that rebuilds an audit table (Django copies the table and
drops the old one) drops its triggers with it: end such a migration with
`install_guards`. tests/audit/test_append_only.py migrates a SQLite file to check.
"""

import re

from django.db import transaction

TABLES = ("audit_auditevent", "audit_accesslog")

# PostgreSQL: audit_refuse_change() is migration 0002's trigger function; it raises for
# any TG_OP, so the statement-level TRUNCATE trigger reuses it.
_PG_TRUNCATE_TRIGGER = (
    "CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS {table}_no_{op_lower} BEFORE {op} ON {table} "
    "BEGIN SELECT RAISE(ABORT, 'audit logs are append-only ({op} on {table})'); END"
)


def guard_sql(vendor: str) -> list[str]:
    """The statements that install the triggers migration 0002 did not (idempotent)."""
    if vendor == "postgresql":
        return [_PG_TRUNCATE_TRIGGER.format(table=table) for table in TABLES]
    if vendor == "sqlite":
        return [
            _SQLITE_TRIGGER.format(table=table, op=op, op_lower=op.lower())
            for table in TABLES
            for op in ("UPDATE", "DELETE")
        ]
    return []


def unguard_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}" for table in TABLES]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}"
            for table in TABLES
            for op in ("update", "delete")
        ]
    return []


def install_guards(schema_editor) -> None:
    for statement in guard_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def flush_guard_statements(vendor: str, statements: list[str]) -> list[str]:
    """Django's flush (`TRUNCATE` on PostgreSQL, `DELETE FROM` on SQLite) with the audit
    triggers paused around it. For the test rig only: TransactionTestCase empties every
    table after each test. It runs as the tables' owner, inside the flush's own
    transaction (execute_sql_flush), so the triggers are back, or never left, when it
    ends; other sessions wait on the table lock TRUNCATE takes anyway."""
    if not statements:
        return statements
    if vendor == "postgresql":
        # USER: every trigger on the table, and no error where there is none
        # (a test database made without migrations).
        pause = [f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in TABLES]
        resume = [f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in TABLES]
        return pause + statements + resume
    if vendor == "sqlite":
        return unguard_sql(vendor) + statements + guard_sql(vendor)
    return statements


# --- The runtime role (PostgreSQL) -------------------------------------------------

_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class RuntimeRoleError(Exception):
    """The runtime role cannot be made safe: it is missing, a superuser, or owns the logs."""


def grant_runtime_role(*, connection, role: str) -> int:
    """Give `role` ordinary rights on every table of the current schema but only SELECT
    and INSERT on the audit logs, now and (default privileges) on every table the
    current role creates later. Run it as the owner of the tables (the migrations'
    role). Idempotent. Returns the number of other tables granted."""
    if connection.vendor != "postgresql":
        raise RuntimeRoleError("The runtime role exists on PostgreSQL only.")
    if not _ROLE_NAME.fullmatch(role):
        raise RuntimeRoleError(f"{role!r} is not a plain PostgreSQL role name.")
    audit = ", ".join(TABLES)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _check_roles(cursor, role)
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
        for statement in [
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            f"REVOKE ALL ON {audit} FROM {role}",
            f"GRANT SELECT, INSERT ON {audit} TO {role}",
            # Tables later migrations create (as this same role) get the ordinary rights.
            # A recreated audit table would get them too: hence re-running this
            # function after every migrate, which revokes them again.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        ]:
            cursor.execute(statement)
        _check_privileges(cursor, role)
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> ALL(%s)",
            [list(TABLES)],
        )
        return cursor.fetchone()[0]


def _check_roles(cursor, role: str) -> None:
    cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        raise RuntimeRoleError(
            f"Role {role} does not exist: create it first (docker/postgres-init/)."
        )
    if row[0]:
        raise RuntimeRoleError(f"Role {role} is a superuser (or bypasses RLS): nothing binds it.")
    for table in TABLES:
        cursor.execute(
            "SELECT pg_get_userbyid(relowner), pg_has_role(%s, relowner, 'MEMBER'), "
            "pg_has_role(current_user, relowner, 'USAGE') "
            "FROM pg_class WHERE oid = %s::regclass",
            [role, table],
        )
        owner, role_is_owner, we_are_owner = cursor.fetchone()
        if role_is_owner:
            raise RuntimeRoleError(
                f"Role {role} is (or can become) {owner}, the owner of {table}: it could drop "
                f"or disable the triggers. Connect the app as a role of its own."
            )
        if not we_are_owner:
            # A non-owner's REVOKE only warns; refuse instead of leaving rights behind.
            raise RuntimeRoleError(
                f"Run this as {owner}, the owner of {table} (the role migrations use)."
            )


def _check_privileges(cursor, role: str) -> None:
    """Rights can also come through PUBLIC or another role: ask for the result."""
    for table in TABLES:
        cursor.execute(
            "SELECT p FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p "
            "WHERE has_table_privilege(%s, %s, p)",
            [role, table],
        )
        extra = [p for (p,) in cursor.fetchall()]
        if extra:
            raise RuntimeRoleError(
                f"Role {role} still has {', '.join(extra)} on {table} (through PUBLIC or "
                f"another role it belongs to): revoke it there."
            )
