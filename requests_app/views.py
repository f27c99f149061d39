from django.shortcuts import render

from secondop.accounts.permissions import coordinator_required

from . import selectors
from .models import CaseStatus


@coordinator_required
def coordinator_home(request):
    counts = selectors.case_counts_by_status(viewer=request.user)
    context = {
        "queue": selectors.coordinator_queue(viewer=request.user)[:50],
        "counts": [(s, counts.get(s.value, 0)) for s in CaseStatus if s != CaseStatus.DRAFT],
    }
    return render(request, "requests_app/coordinator_home.html", context)
