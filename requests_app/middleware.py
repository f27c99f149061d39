"""The page a care-team member meets when their access to a case has ended."""

from django.conf import settings
from django.shortcuts import render

from .access import CaseAccessEnded


class CaseAccessEndedMiddleware:
    """Renders CaseAccessEnded (a 404) as a page that says why access ended and
    shows nothing of the case: not its reference, not the patient's name. With
    DEBUG on too (Django's debug 404 page would print the URL's case id)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, CaseAccessEnded):
            return None
        return render(
            request,
            "requests_app/access_ended.html",
            {
                "withdrawn": exception.why == CaseAccessEnded.WITHDRAWN,
                "window_days": settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE,
            },
            status=404,
        )
