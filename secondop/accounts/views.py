from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from secondop.notifications.selectors import notification_list

from .models import Role

ROLE_HOMES = {
    Role.COORDINATOR: "requests_app:coordinator_home",
    Role.SPECIALIST: "specialists:home",
    Role.ADMIN: "admin:index",
}


@login_required
def home(request):
    """Where everyone lands after signing in: staff go on to their own home."""
    user = request.user
    if user.role in ROLE_HOMES:
        return redirect(ROLE_HOMES[user.role])
    context = {
        "recent_notifications": list(notification_list(viewer=user)[:5]),
        "has_totp": Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
    }
    return render(request, "accounts/home.html", context)
