from django.shortcuts import render

from secondop.accounts.permissions import specialist_required

from .models import SpecialistProfile
from .selectors import specialist_case_list


@specialist_required
def home(request):
    profile = (
        SpecialistProfile.objects.filter(user=request.user).prefetch_related("specialties").first()
    )
    context = {"profile": profile, "cases": specialist_case_list(viewer=request.user)[:50]}
    return render(request, "specialists/home.html", context)
