"""The caregiver pages. Thin: who may (the patient for their list; the access rule
for a followed request), the form, one service call, a response."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from requests_app import access, progress
from requests_app import selectors as case_selectors
from requests_app.access import CaregiverRight
from requests_app.consultations import selectors as consultations
from requests_app.messaging import selectors as messaging
from secondop.accounts.models import Role
from secondop.accounts.permissions import patient_required
from secondop.posting import form_post, posted

from . import selectors, services
from .forms import ChangeForm, InviteForm


# --- The patient's side ---------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@patient_required
def caregiver_list(request):
    """The patient's caregivers, what each may do, and the invitation form."""
    cases = list(selectors.shareable_cases(viewer=request.user))
    form = InviteForm(posted(request), cases=cases)
    return form_post(
        request,
        form,
        act=lambda _data: services.caregiver_invite(actor=request.user, **form.invite_kwargs()),
        success=_("Your invitation is sent. They will appear here as active once they accept."),
        then=lambda _caregiver: reverse("caregivers:list"),
        page=lambda form, status: render(
            request,
            "caregivers/list.html",
            {
                "caregivers": selectors.caregivers_for_patient(viewer=request.user),
                "form": form,
                "has_cases": bool(cases),
            },
            status=status,
        ),
        refusals=services.CaregiverError,
    )


@require_http_methods(["GET", "POST"])
@patient_required
def caregiver_change(request, caregiver_ref):
    caregiver = selectors.caregiver_for_patient(viewer=request.user, ref=caregiver_ref)
    cases = list(selectors.shareable_cases(viewer=request.user))
    initial = {
        "cases": [str(c.uuid) for c in caregiver.cases.all()],
        **{right: getattr(caregiver, right) for right in services.RIGHTS},
    }
    form = ChangeForm(posted(request), cases=cases, initial=initial)
    return form_post(
        request,
        form,
        act=lambda _data: services.caregiver_change(
            actor=request.user, caregiver_ref=caregiver.uuid, **form.rights()
        ),
        success=_("Saved. The change applies from now on."),
        then=lambda _caregiver: reverse("caregivers:list"),
        page=lambda form, status: render(
            request,
            "caregivers/change.html",
            {"caregiver": caregiver, "form": form},
            status=status,
        ),
        refusals=services.CaregiverError,
    )


@require_POST
@patient_required
def caregiver_revoke(request, caregiver_ref):
    caregiver = services.caregiver_revoke(actor=request.user, caregiver_ref=caregiver_ref)
    messages.success(
        request,
        _("%(name)s can no longer see your requests.") % {"name": caregiver.name},
    )
    return redirect("caregivers:list")


# --- The invited person's side -----------------------------------------------------------
REFUSED_STATUS = {
    services.Refused.REVOKED: 410,
    services.Refused.EXPIRED: 410,
    services.Refused.OTHER_ACCOUNT: 403,
}


@require_http_methods(["GET", "POST"])
def caregiver_accept(request, token):
    """The link in the invitation. Not signed in: create an account or sign in, and
    come back here. Signed in with the invited address: accept."""
    caregiver = services.invitation_for_token(token)
    user = request.user if request.user.is_authenticated else None
    why = services.refusal_for(caregiver, user)
    if why is not None:
        return render(
            request,
            "caregivers/refused.html",
            {"why": why, "patient_name": caregiver.patient.full_name},
            status=REFUSED_STATUS[why],
        )
    if user is None:
        if request.method == "POST":
            return redirect_to_login(request.get_full_path())
        here = request.get_full_path()
        return render(
            request,
            "caregivers/accept.html",
            {
                "caregiver": caregiver,
                "signup_url": f"{reverse('account_signup')}?next={here}",
                "login_url": f"{reverse('account_login')}?next={here}",
            },
        )
    if request.method == "POST" or caregiver.accepted_at is not None:
        services.caregiver_accept(actor=user, token=token)
        if request.method == "POST":
            messages.success(
                request,
                _("You can now follow %(name)s's request.") % {"name": caregiver.patient.full_name},
            )
        return redirect("requests_app:dashboard")
    return render(request, "caregivers/accept.html", {"caregiver": caregiver})


@require_GET
@access.case_page(
    roles={Role.PATIENT}, caregiving=CaregiverRight.STATUS, needs={access.Relation.CAREGIVER}
)
def caregiver_case(request, case):
    """A followed request, as its caregiver sees it: the status, the steps, the
    timeline, and the ways in the patient allowed."""
    questions = len(messaging.open_questions(case=case))
    facts = case_selectors.case_facts(cases=[case], open_questions={case.pk: questions})
    grant = selectors.grant_for(viewer=request.user, case=case)
    context = {
        "case": case,
        "progress": progress.describe(case.status, facts.get(case.pk)),
        "timeline": case_selectors.case_timeline(case=case),
        "grant": grant,
        "sees_thread": grant.messages and messaging.sees_thread(viewer=request.user, case=case),
        "consultation": next(iter(consultations.case_consultations(case=case)), None)
        if grant.consultations
        else None,
    }
    return render(request, "caregivers/case.html", context)
