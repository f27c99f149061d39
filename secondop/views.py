from django.db import connection
from django.http import HttpResponseBadRequest, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache


def home(request):
    """The public front page; signed-in people go straight to their own home."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    return render(request, "pages/home.html")


@never_cache
def healthz(request):
    """For the load balancer and docker-compose: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def error_400(request, exception=None):
    # Rendered without the request: a bad Host header must not break the page too.
    return HttpResponseBadRequest(render_to_string("errors/400.html"))


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    # Rendered without the request (no context processors, no session, no user):
    # the error may be the database itself.
    return HttpResponseServerError(render_to_string("errors/500.html"))
