from django.db import connection
from django.shortcuts import render


def page(request):
    """One query (the ten newest sent requests, by primary key) and a small template."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reference, status, submitted_at FROM requests_app_case"
            " WHERE reference IS NOT NULL ORDER BY id DESC LIMIT 10"
        )
        rows = cursor.fetchall()
    return render(request, "bare.html", {"rows": rows})
