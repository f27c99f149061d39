from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from secondop.notifications.selectors import notification_list


@login_required
def home(request):
    """Where everyone lands after signing in; what it shows depends on the role."""
    user = request.user
    context = {
        "recent_notifications": list(notification_list(viewer=user)[:5]),
        "has_totp": Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
    }
    return render(request, "accounts/home.html", context)
