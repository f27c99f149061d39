#!/bin/sh
# The one-shot `migrate` service, as the owner role (DATABASE_URL of that service only):
# apply the migrations, then re-apply the runtime role's rights (DATABASE_RUNTIME_ROLE),
# so that tables created or rebuilt by these migrations get them, and the audit logs
# keep only SELECT and INSERT. web starts once this has exited 0.
set -eu
cd /app
python manage.py migrate --noinput
python manage.py grant_runtime_role
