from django.db.models import QuerySet

from requests_app.models import Case
from requests_app.selectors import case_list


def specialist_case_list(*, viewer) -> QuerySet[Case]:
    return case_list(viewer=viewer).select_related("owner")
