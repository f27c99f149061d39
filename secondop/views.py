import hmac

from django.conf import settings
from django.db import connection
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import mailing
from .accounts.services import user_set_language
from .languages import offered


def home(request):
    """The public front page; signed-in people go straight to their own home."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    return render(request, "pages/home.html")


@require_POST
def language(request):
    """The language switch on every page: the page again, in the chosen language.
    A signed-in person's choice is kept on their account (their emails follow it);
    everyone's, in the language cookie. A language we do not offer changes nothing."""
    code = request.POST.get("language", "")
    # The page the switch was on (our Referrer-Policy is same-origin); a page that
    # sends none (a physician's link: no-referrer) goes to the front page.
    back = request.POST.get("next", "") or request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("home")
    response = redirect(back)
    if offered(code):
        if request.user.is_authenticated:
            user_set_language(actor=request.user, language=code)
        translation.activate(code)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@never_cache
def healthz(request):
    """For the load balancer and docker-compose: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_POST
def mail_bounce(request):
    """The mail provider's inbound hook for returned mail: the raw message (a
    delivery status notification) as the body, our secret as a bearer token. Off
    (404) without MAIL_BOUNCE_TOKEN; a wrong token is a 404 too. Each permanent
    failure goes to the app whose email it was (secondop.mailing.on_bounce)."""
    expected = settings.MAIL_BOUNCE_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Http404
    if int(request.headers.get("Content-Length") or 0) > mailing.BOUNCE_MAX_BYTES:
        return HttpResponse(status=413)
    return JsonResponse({"changed": mailing.handle_bounce(request.body)})


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
