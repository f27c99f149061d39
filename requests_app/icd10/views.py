from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from .search import icd10_search


@require_POST
@login_required
@sensitive_post_parameters("q")
def icd10_search_view(request):
    """Type-ahead for the ICD-10 picker: POST q=... -> {"results": [{code, title}]}.

    POST, not GET: what a patient types about their health stays out of URLs,
    and so out of access logs and browser history."""
    codes = icd10_search(query=request.POST.get("q", ""))
    return JsonResponse({"results": [{"code": c.code, "title": c.title} for c in codes]})
