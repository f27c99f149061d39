"""The image viewer, its frames, and the patient's "Your scans".

Every URL loads the series through records.imaging.viewing (the care team of its
case, a record they are shown; 404 for everyone else). The viewer page is usable
without JavaScript (the frame, previous/next links and a form with `?i=`);
static/js/image-viewer.js turns it into the scrolling viewer.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from requests_app import access
from requests_app.access import patient_case_page
from secondop.refusals import Refusal

from . import selectors, services
from . import viewer_selectors as viewing
from .models import SIZES, FrameSet, Preset, Series
from .rendering import REASONS

# The size a page shows without JavaScript, and what a phone-width screen asks for.
LARGE, SMALL = max(SIZES), min(SIZES)


def _index(raw: str | None) -> int:
    try:
        return max(int(raw or 0), 0)
    except ValueError:
        return 0


def _frame_url(series: Series, preset: str, size: int, index: int) -> str:
    return reverse("imaging:frame", args=[series.uuid, preset, size, index])


def _study_of(series: Series) -> dict:
    """The study the series belongs to, as its record's summary tells it."""
    for study in series.record.study.get("studies", []):
        if study.get("study_uid") == series.study_uid:
            try:
                when = datetime.date.fromisoformat(study.get("date") or "")
            except ValueError:
                when = None
            return {**study, "date": when, "series_count": len(study.get("series", []))}
    return {}


def _failed_reason(series: Series, preset: str) -> str:
    """Why a preset's frames could not be prepared, in words (records.imaging.rendering)."""
    reason = (
        FrameSet.objects.filter(series=series, preset=preset)
        .exclude(reason="")
        .values_list("reason", flat=True)
        .first()
    )
    return str(REASONS.get(reason or "", REASONS.get("damaged", "")))


def _by_record(listed: list[Series]) -> list[tuple]:
    """Series grouped by their study record, in the order given."""
    groups: list[tuple] = []
    for one in listed:
        if not groups or groups[-1][0].pk != one.record_id:
            groups.append((one.record, []))
        groups[-1][1].append(one)
    return groups


def _state_json(series: Series, states: list[viewing.PresetState] | None = None) -> dict:
    if states is None:
        states = viewing.preset_states(series, viewing.frame_sets_of(series))
    return {
        "images": series.image_count,
        "presets": {
            s.preset: {
                "asked": s.asked,
                "failed": s.failed,
                "total": s.total,
                "ready": {str(size): count for size, count in s.ready.items()},
            }
            for s in states
        },
    }


@require_GET
@login_required
def viewer(request, series_ref):
    series = viewing.series_for_viewer(viewer=request.user, ref=series_ref)
    record, case = series.record, series.record.case
    states = viewing.preset_states(series, viewing.frame_sets_of(series))
    by_preset = {s.preset: s for s in states}
    preset = request.GET.get("preset", Preset.STORED)
    if preset not in by_preset or not by_preset[preset].any_ready:
        preset = str(Preset.STORED)
    current = by_preset[preset]
    ready = current.any_ready
    index = min(_index(request.GET.get("i")), max(ready - 1, 0))
    is_owner = access.is_owner(request.user, case)
    groups = _by_record(viewing.case_series(viewer=request.user, case=case))

    def step(to: int) -> str:
        query = {"i": to} if preset == Preset.STORED else {"i": to, "preset": preset}
        return f"{request.path}?{urlencode(query)}"

    sizes_ready = {size: current.ready.get(size, 0) for size in SIZES}
    context = {
        "series": series,
        "state": _state_json(series, states),
        "large_size": LARGE,
        "small_size": SMALL,
        "record": record,
        "case": case,
        "is_owner": is_owner,
        "study": _study_of(series),
        "groups": groups,
        "states": states,
        "preset": preset,
        "current": current,
        "index": index,
        "position": index + 1,
        "ready": ready,
        "total": series.image_count,
        "preparing": not current.failed and ready < series.image_count,
        "failed_reason": _failed_reason(series, preset) if current.failed else "",
        "large_url": _frame_url(series, preset, LARGE, index) if sizes_ready[LARGE] > index else "",
        "small_url": _frame_url(series, preset, SMALL, index) if sizes_ready[SMALL] > index else "",
        "previous_url": step(index - 1) if index > 0 else "",
        "next_url": step(index + 1) if index + 1 < ready else "",
        "frames_base": reverse("imaging:frame", args=[series.uuid, "PRESET", 0, 0]).replace(
            "/PRESET/0/0/", "/"
        ),
        "frame_token": viewing.frame_token(viewer=request.user, series=series),
        "state_url": reverse("imaging:state", args=[series.uuid]),
        "preset_url": reverse("imaging:preset", args=[series.uuid]),
        "back_url": reverse("imaging:scans", args=[case.uuid])
        if is_owner
        else reverse("records:detail", args=[record.uuid]),
    }
    return render(request, "imaging/viewer.html", context)


@require_GET
@login_required
def frame(request, series_ref, preset, size, index):
    """One rendered frame, never a storage URL: checked like the page, or, with the
    frame token the page gave this person for this series (`?t=`, a minute), in one
    query, the rules that can change while a viewer is open (viewer_selectors: the
    frame token). A frame that ran the
    whole check answers with a fresh token (X-Frame-Token) for the next ones."""
    where = {"viewer": request.user, "ref": series_ref, "preset": preset, "size": size}
    token = request.GET.get("t", "")
    frame_set = viewing.frame_by_token(**where, index=index, token=token) if token else None
    fresh = ""
    if frame_set is None:
        frame_set = viewing.frame_for_viewer(**where, index=index)
        fresh = viewing.frame_token(viewer=request.user, series=frame_set.series)
    try:
        with selectors.open_frame(frame_set, index) as handle:
            # A frame is tens of KiB: read whole (storage's own read is one GET).
            data = handle.read()
    except (LookupError, FileNotFoundError, OSError):
        raise Http404 from None
    response = HttpResponse(data, content_type="image/webp")
    # PHI, like every signed-in page (secondop.middleware): no copy in any cache, the
    # browser's included, once the person has signed out. The viewer keeps the frames
    # around the current one in the page's memory instead (static/js/image-viewer.js).
    response["Cache-Control"] = "private, no-store"
    if fresh:
        response["X-Frame-Token"] = fresh
    return response


@require_GET
@login_required
def state(request, series_ref):
    """How far each preset's rendering got (the viewer asks while images are being
    prepared): counts only, nothing worth an access-log row."""
    series = viewing.series_quietly(viewer=request.user, ref=series_ref)
    response = JsonResponse(_state_json(series))
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def preset(request, series_ref):
    """Ask for a window preset: made when first asked for (records.imaging.services),
    then shown. The viewer's script asks with fetch and follows the state; without
    it, the page comes back on that preset."""
    series = viewing.series_quietly(viewer=request.user, ref=series_ref)
    wanted = request.POST.get("preset", "")
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        services.ask_for_preset(series, wanted)
    except Refusal as error:
        if wants_json:
            return JsonResponse({"message": error.message}, status=error.status)
        messages.error(request, error.message)
        wanted = str(Preset.STORED)
    if wants_json:
        series.refresh_from_db()
        return JsonResponse(_state_json(series))
    query = {"i": _index(request.POST.get("i"))}
    if wanted != Preset.STORED:
        query["preset"] = wanted
    return redirect(f"{reverse('imaging:viewer', args=[series.uuid])}?{urlencode(query)}")


@require_GET
@patient_case_page
def scans(request, case):
    """The patient's own scans: every series of their checked studies."""
    if not access.is_owner(request.user, case):
        raise Http404
    groups = []
    for record, listed in _by_record(viewing.case_series(viewer=request.user, case=case)):
        cards = []
        for one in listed:
            stored = {
                fs.size: fs.ready_count for fs in one.frame_sets.all() if fs.preset == Preset.STORED
            }
            # The middle image as its picture, once rendered that far (else the last ready).
            middle = min(one.image_count // 2, stored.get(SMALL, 0) - 1)
            cards.append(
                {
                    "series": one,
                    "ready": max(stored.values(), default=0),
                    "thumbnail": _frame_url(one, Preset.STORED, SMALL, middle)
                    if middle >= 0
                    else "",
                }
            )
        groups.append((record, cards))
    return render(request, "imaging/scans.html", {"case": case, "groups": groups})
