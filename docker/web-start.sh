#!/bin/sh
# Container start for the `web` service only: apply migrations, then hand PID 1 to gunicorn.
# worker and beat never migrate; compose starts them once web is healthy.
set -eu
cd /app
python manage.py migrate --noinput
exec gunicorn secondop.wsgi:application \
    --bind 0.0.0.0:8000 \
    --workers "${GUNICORN_WORKERS:-3}" \
    --worker-tmp-dir /dev/shm \
    --access-logfile -
