from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .icd10 import icd10_search


@require_GET
@login_required
def icd10_search_view(request):
    """Typeahead for the ICD-10 picker: GET ?q=... -> {"results": [{code, title}]}."""
    codes = icd10_search(query=request.GET.get("q", ""))
    return JsonResponse({"results": [{"code": c.code, "title": c.title} for c in codes]})
