"""The signed-in floor for bench/pages.py: what any signed-in SecondOp page costs
before its own work. It runs in SecondOp's own process with the project's
settings: the whole middleware stack (CSP nonce, session from Redis, locale,
CSRF, the user loaded, the audit context, time zone, messages, allauth, user
sessions, security headers, idle timeout, staff MFA, case access ended), then
@login_required, one query (the viewer's ten newest sent requests) and a small
template (no base template, no context processors' work beyond what the request
context runs). A page's ratio to this floor is the page's own queries and
rendering."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.shortcuts import render


@login_required
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reference, status, submitted_at FROM requests_app_case"
            " WHERE owner_id = %s AND reference IS NOT NULL ORDER BY id DESC LIMIT 10",
            [request.user.pk],
        )
        rows = cursor.fetchall()
    return render(request, "bench_signed_in_floor.html", {"rows": rows})
