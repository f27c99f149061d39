#!/bin/sh
# Container start for the `web` service: hand PID 1 to gunicorn. It connects as the runtime
# role, which cannot create or alter tables: the one-shot `migrate` service (docker/migrate.sh)
# has applied the migrations as the owner role before compose starts web.
# docker/gunicorn.conf.py: bind, workers, and an access log without query strings.
set -eu
cd /app
exec gunicorn secondop.wsgi:application --config docker/gunicorn.conf.py
