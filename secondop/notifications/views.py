from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services
from .forms import EmailPreferencesForm
from .selectors import email_preferences, notification_list


@login_required
def notification_list_view(request):
    page = Paginator(notification_list(viewer=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_POST
@login_required
def notification_open(request, pk: int):
    """Mark one read and follow its link (only ever a path on this site)."""
    notification = get_object_or_404(notification_list(viewer=request.user), pk=pk)
    services.notification_mark_read(actor=request.user, notification_id=pk)
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return redirect(url)
    return redirect("notifications:list")


@require_POST
@login_required
def notification_mark_all_read(request):
    services.notifications_mark_all_read(actor=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:list")


@login_required
def email_preferences_view(request):
    current = email_preferences(user=request.user)
    form = EmailPreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        services.email_preferences_update(actor=request.user, enabled=form.cleaned_data)
        messages.success(request, _("Your email preferences are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
