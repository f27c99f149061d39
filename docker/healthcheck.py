"""Docker health check for the web service: GET /healthz must answer 200 {"status": "ok"}.

Standard library only (the slim image has no curl). The request goes to 127.0.0.1:8000 but
carries a Host header taken from DJANGO_ALLOWED_HOSTS, so it is not rejected as a disallowed
host when the deployment narrows that list, and X-Forwarded-Proto: https so it is not
redirected when SECURE_SSL_REDIRECT is on (as it is behind the production TLS proxy).
"""

import json
import os
import sys
import urllib.request

URL = "http://127.0.0.1:8000/healthz"


def host_header() -> str:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "127.0.0.1"


def main() -> int:
    request = urllib.request.Request(
        URL, headers={"Host": host_header(), "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (fixed URL)
            body = json.load(response)
            ok = response.status == 200 and body.get("status") == "ok"
    except Exception as exc:  # any failure, HTTP error or refused connection, is "unhealthy"
        print(f"healthz failed: {exc}", file=sys.stderr)
        return 1
    if not ok:
        print(f"healthz answered {body!r}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
