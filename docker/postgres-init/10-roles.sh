#!/bin/sh
# The postgres image runs this once, as the superuser, when it initialises an empty data
# volume (mounted at /docker-entrypoint-initdb.d/). It creates SecondOp's two roles:
#
#   secondop_owner  owns the database, so every table the migrations create: only the
#                   one-shot `migrate` service connects as it (docker/migrate.sh).
#   secondop_app    web, worker and beat. Not a superuser, creates no databases, roles or
#                   tables; `manage.py grant_runtime_role` gives it rights on the tables,
#                   but only SELECT and INSERT on the audit logs, which it does not own, so
#                   it cannot change or remove their rows nor drop or disable their triggers
#                   (secondop/audit/append_only.py).
#
# The entrypoint sources this file when it is not executable: no `set -u`, and a failure
# exits the whole initialisation (docker-compose.yml checks the passwords before that).
set -e

if [ -z "${POSTGRES_OWNER_PASSWORD:-}" ] || [ -z "${POSTGRES_APP_PASSWORD:-}" ]; then
    echo "10-roles.sh: set POSTGRES_OWNER_PASSWORD and POSTGRES_APP_PASSWORD in .env" >&2
    exit 1
fi

# psql quotes the values (:'name', :"name"): no password is pasted into SQL by the shell.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner_password="$POSTGRES_OWNER_PASSWORD" \
    -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE secondop_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
CREATE ROLE secondop_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT PASSWORD :'app_password';
-- The schema public belongs to pg_database_owner (PostgreSQL 15+), so now to the owner.
ALTER DATABASE :"db" OWNER TO secondop_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO secondop_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO secondop_app;
SQL
