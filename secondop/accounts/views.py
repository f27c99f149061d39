from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from secondop.posting import form_post
from secondop.timezones import format_local

from . import services
from .forms import TimeZoneForm
from .models import Role

ROLE_HOMES = {
    Role.PATIENT: "requests_app:dashboard",
    Role.COORDINATOR: "requests_app:coordinator_home",
    Role.SPECIALIST: "specialists:home",
    Role.ADMIN: "admin:index",
}


@login_required
def home(request):
    """Where everyone lands after signing in: each role has its own home."""
    return redirect(ROLE_HOMES[request.user.role])


@login_required
def time_zone(request):
    """Staff choose the zone they read times in. A patient's zone follows the state
    they live in (their request), so they have no such page."""
    if not request.user.is_clinical_staff:
        raise Http404
    form = TimeZoneForm(
        request.POST or None, initial={"time_zone": request.user.time_zone or settings.TIME_ZONE}
    )
    return form_post(
        request,
        form,
        act=lambda data: services.user_set_time_zone(
            actor=request.user, time_zone=data["time_zone"]
        ),
        success=lambda _user: (
            _("Your time zone is saved: %(zone)s.")
            % {"zone": form.cleaned_data["time_zone"].replace("_", " ")}
        ),
        then=lambda _user: reverse("accounts:time_zone"),
        page=lambda form, status: render(
            request,
            "accounts/time_zone.html",
            {"form": form, "now_shown": format_local(timezone.now())},
            status=status,
        ),
        refusals=services.AccountChangeError,
    )


@require_POST
@login_required
def time_zone_from_browser(request):
    """The browser's zone, posted once by static/js/time-zone.js while the account
    has none: it becomes the account's zone (never replacing one already set)."""
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    services.user_set_time_zone(
        actor=request.user,
        only_if_unset=True,
        time_zone=form.cleaned_data["time_zone"],
    )
    return HttpResponse(status=204)
