"""A specialist edits their own profile: one page that shows everything matching
reads, and a page per part. Every page works on the signed-in specialist's own
profile: no URL names anyone's profile, so there is nobody else's to reach.
An administrator edits any profile in the Django admin."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from secondop.accounts.permissions import specialist_required
from secondop.us_states import USState

from . import profile_services as services
from . import selectors
from .directory_views import mode_labels, photo_url
from .forms import (
    CertificationAddForm,
    ConditionAddForm,
    LeaveForm,
    LicenceForm,
    PhotoForm,
    ProfileForm,
)
from .models import SpecialistProfile


def own_profile_view(view):
    """A page of one part of the profile: the view gets the signed-in
    specialist's own profile. Before it exists, they fill in the main details."""

    @wraps(view)
    @specialist_required
    def wrapper(request, *args, **kwargs):
        profile = selectors.own_profile(viewer=request.user)
        if profile is None:
            messages.info(request, _("Fill in your main details first."))
            return redirect("specialists:profile_edit")
        return view(request, profile, *args, **kwargs)

    return wrapper


def _refused(form, error: ValidationError) -> None:
    """What a service refused (it checks again under its lock) is shown on the
    form like any other error."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@specialist_required
def profile(request):
    profile = selectors.own_profile(viewer=request.user)
    context = {"profile": profile, "today": timezone.localdate()}
    if profile is not None:
        titles = selectors.icd10_titles(codes=profile.conditions)
        context |= {
            "conditions": [(code, titles.get(code, "")) for code in profile.conditions],
            "photo_url": photo_url(profile),
            "modes": mode_labels(profile.consultation_modes),
        }
    return render(request, "specialists/profile.html", context)


@specialist_required
def profile_edit(request):
    profile = selectors.own_profile(viewer=request.user)
    form = ProfileForm(request.POST or None, instance=profile or SpecialistProfile())
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_profile_update(
                actor=request.user, profile=profile, data=form.cleaned_data
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("specialists:profile")
    return render(request, "specialists/profile_edit.html", {"form": form, "profile": profile})


@own_profile_view
def profile_conditions(request, profile):
    form = ConditionAddForm(request.POST or None, profile=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_condition_add(
                actor=request.user, profile=profile, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, _("%(code)s is added.") % {"code": form.cleaned_data["code"]})
            return redirect("specialists:profile_conditions")
    titles = selectors.icd10_titles(codes=profile.conditions)
    context = {
        "form": form,
        "profile": profile,
        "conditions": [(code, titles.get(code, "")) for code in profile.conditions],
    }
    return render(request, "specialists/profile_conditions.html", context)


@require_POST
@own_profile_view
def profile_condition_remove(request, profile):
    code = request.POST.get("code", "")
    if services.specialist_condition_remove(actor=request.user, profile=profile, code=code):
        messages.success(request, _("%(code)s is removed.") % {"code": code})
    return redirect("specialists:profile_conditions")


@own_profile_view
def profile_certifications(request, profile):
    form = CertificationAddForm(request.POST or None, profile=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_certification_add(
                actor=request.user,
                profile=profile,
                certification=form.cleaned_data["certification"],
                year=form.cleaned_data["year"],
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(
                request, _("%(name)s is added.") % {"name": form.cleaned_data["certification"].name}
            )
            return redirect("specialists:profile_certifications")
    return render(
        request, "specialists/profile_certifications.html", {"form": form, "profile": profile}
    )


@require_POST
@own_profile_view
def profile_certification_remove(request, profile):
    if services.specialist_certification_remove(
        actor=request.user,
        profile=profile,
        certification_slug=request.POST.get("certification", ""),
    ):
        messages.success(request, _("The certification is removed."))
    return redirect("specialists:profile_certifications")


@own_profile_view
def profile_licences(request, profile):
    form = LicenceForm(request.POST or None, profile=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_licence_add(
                actor=request.user, profile=profile, **form.cleaned_data
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(
                request,
                _("Your licence in %(state)s is added.")
                % {"state": USState(form.cleaned_data["state"]).label},
            )
            return redirect("specialists:profile_licences")
    context = {"form": form, "profile": profile, "today": timezone.localdate()}
    return render(request, "specialists/profile_licences.html", context)


@own_profile_view
def profile_licence_edit(request, profile, state: str):
    licence = next((each for each in profile.licences.all() if each.state == state), None)
    if licence is None:
        raise Http404
    initial = {"number": licence.number, "expires_on": licence.expires_on}
    form = LicenceForm(request.POST or None, profile=profile, state=state, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_licence_update(
                actor=request.user,
                profile=profile,
                state=state,
                **form.cleaned_data,
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(
                request,
                _("Your licence in %(state)s is saved.") % {"state": licence.get_state_display()},
            )
            return redirect("specialists:profile_licences")
    context = {"form": form, "profile": profile, "licence": licence, "today": timezone.localdate()}
    return render(request, "specialists/profile_licence_edit.html", context)


@require_POST
@own_profile_view
def profile_licence_remove(request, profile):
    state = request.POST.get("state", "")
    if services.specialist_licence_remove(actor=request.user, profile=profile, state=state):
        messages.success(
            request, _("Your licence in %(state)s is removed.") % {"state": USState(state).label}
        )
    return redirect("specialists:profile_licences")


@own_profile_view
def profile_leave(request, profile):
    form = LeaveForm(request.POST or None, profile=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_leave_add(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(
                request,
                _(
                    "Your leave is added. You are not offered cases that "
                    "would be due while you are away."
                ),
            )
            return redirect("specialists:profile_leave")
    context = {"form": form, "profile": profile, "today": timezone.localdate()}
    return render(request, "specialists/profile_leave.html", context)


@require_POST
@own_profile_view
def profile_leave_remove(request, profile):
    try:
        leave_id = int(request.POST.get("leave", ""))
    except ValueError:
        return redirect("specialists:profile_leave")
    if services.specialist_leave_remove(actor=request.user, profile=profile, leave_id=leave_id):
        messages.success(request, _("The leave is removed."))
    return redirect("specialists:profile_leave")


@own_profile_view
def profile_photo(request, profile):
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.specialist_photo_set(
                actor=request.user,
                profile=profile,
                upload=form.cleaned_data["photo"],
            )
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Your photo is saved."))
            return redirect("specialists:profile")
    context = {"form": form, "profile": profile, "photo_url": photo_url(profile)}
    return render(request, "specialists/profile_photo.html", context)


@require_POST
@own_profile_view
def profile_photo_remove(request, profile):
    if services.specialist_photo_remove(actor=request.user, profile=profile):
        messages.success(request, _("Your photo is removed."))
    return redirect("specialists:profile")
