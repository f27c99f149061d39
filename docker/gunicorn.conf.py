"""gunicorn settings for the web service (docker/web-start.sh) and the page benchmark.

The access log never carries a query string or a Referer: both can hold what a
person typed (a patient's name searched in the coordinator's queue). %(U)s is
the path alone; %(r)s, the request line with its query, is deliberately absent.
Paths that carry a secret (the physician's link, a local upload's token) are
logged with the secret replaced.
"""

import os
import re

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# Threads per worker (gunicorn's gthread worker when above 1): the image viewer asks for
# several frames at once, each mostly waiting on S3, so a worker serves them side by
# side instead of one after another (bench/README.md, "Image viewer scrolling").
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# gunicorn's heartbeat files in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

# /shared/<token>/ (a physician's link to one report; /shl/<token> its SMART Health
# Link), /records/upload/<token>/ (a local-mode upload) and /records-requests/from/<token>/
# (a records office's upload page): the token is a credential, so the log shows only
# its place.
SECRET_PATHS = re.compile(
    r"^(/shared/|/shl/|/records/upload/|/records-requests/from/|/doctor-call/)[^/]+"
)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = SECRET_PATHS.sub(r"\1[token]", atoms.get("U") or "")
        return atoms


logger_class = RedactingLogger
