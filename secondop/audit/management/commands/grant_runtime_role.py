"""Re-apply the runtime role's rights after `migrate`, as the owner role.

Migration 0004 grants them once. Run this after every `migrate` (docker/migrate.sh
does) because the migration does not run again when the role is set, renamed or
recreated later, default privileges cover only tables the same role creates, and a
migration that recreates an audit table would hand it the ordinary rights."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from secondop.audit.append_only import RuntimeRoleError, grant_runtime_role


class Command(BaseCommand):
    help = "Grant DATABASE_RUNTIME_ROLE read/write on the tables, but only SELECT/INSERT on the audit logs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--role",
            default=None,
            help="the runtime role (default: the DATABASE_RUNTIME_ROLE setting)",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role=None, database=DEFAULT_DB_ALIAS, **options):
        role = role if role is not None else settings.DATABASE_RUNTIME_ROLE
        connection = connections[database]
        if not role:
            self.stdout.write("DATABASE_RUNTIME_ROLE is empty: nothing to grant.")
            return
        if connection.vendor != "postgresql":
            self.stdout.write(f"{connection.vendor}: no roles to grant (PostgreSQL only).")
            return
        try:
            others = grant_runtime_role(connection=connection, role=role)
        except RuntimeRoleError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{role}: SELECT, INSERT on the audit logs; SELECT, INSERT, UPDATE, DELETE on "
                f"{others} other tables and on tables created later."
            )
        )
