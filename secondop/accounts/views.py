from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

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
