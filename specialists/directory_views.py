"""The public directory of specialists: no sign-in, public fields only (name,
credentials, specialties and board certifications, institution, focus,
languages, bio, photo, the states they practise in and the consultations they
offer). Never a licence number, capacity, leave or an email address."""

import re

from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import selectors
from .forms import DirectoryFilterForm
from .models import ConsultationMode
from .profile_services import PHOTO_CONTENT_TYPES, PHOTO_DIRECTORY

PAGE_SIZE = 20
# What specialists.profile_services.specialist_photo_set names a photo: a random
# hex name and the extension of the format Pillow verified.
PHOTO_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")
# A new photo gets a new name, so a photo's URL never changes what it shows.
PHOTO_CACHE_CONTROL = "public, max-age=31536000, immutable"


def mode_labels(values: list[str]) -> list[str]:
    return [ConsultationMode(value).label for value in ConsultationMode.values if value in values]


def photo_url(profile) -> str:
    if not profile.photo.name:
        return ""
    return reverse("directory:photo", args=[profile.photo.name.rsplit("/", 1)[-1]])


@require_safe
def directory(request):
    """Every active specialist, filtered by specialty, language, state and
    consultation, 20 a page."""
    form = DirectoryFilterForm(request.GET or None, languages=selectors.directory_languages())
    filters = form.filters() if form.is_bound else {}
    page = Paginator(selectors.directory_list(filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": bool(filters),
        "entries": [(profile, photo_url(profile)) for profile in page.object_list],
    }
    return render(request, "specialists/directory.html", context)


@require_safe
def specialist_detail(request, public_id):
    """One specialist's entry. A patient with a request they can still change is
    offered to name this specialist on it (when they are taking new cases)."""
    profile = selectors.directory_profile(public_id=public_id)
    cases = (
        selectors.cases_open_to_a_preference(viewer=request.user) if profile.accepting_cases else []
    )
    context = {
        "profile": profile,
        "photo_url": photo_url(profile),
        "cases": cases,
        "modes": mode_labels(profile.consultation_modes),
    }
    return render(request, "specialists/directory_detail.html", context)


@require_safe
def photo(request, filename: str):
    """A directory photo, streamed from storage (the bucket stays private), with
    the Content-Type of the format Pillow verified when it was uploaded."""
    match = PHOTO_NAME.match(filename)
    if match is None:
        raise Http404
    name = PHOTO_DIRECTORY + filename
    selectors.directory_photo(name=name)
    try:
        file = default_storage.open(name)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(file, content_type=PHOTO_CONTENT_TYPES[match[1]])
    response["Cache-Control"] = PHOTO_CACHE_CONTROL
    return response
