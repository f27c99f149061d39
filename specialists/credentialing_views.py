"""The administrators' credentialing page: licences waiting to be verified,
verified ones expiring within 60 days, and refused ones. Anyone but an
administrator gets a 404, as in the Django admin."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from secondop.accounts.models import Role

from . import credentialing
from .models import LicenceSource


class SeenMixin(forms.Form):
    """What the administrator's page showed of the licence (credentialing._seen_matches)."""

    seen_number = forms.CharField(widget=forms.HiddenInput, required=False)
    seen_expires_on = forms.CharField(widget=forms.HiddenInput, required=False)
    seen_verification = forms.CharField(widget=forms.HiddenInput, required=False)

    def seen(self) -> dict:
        data = self.cleaned_data
        return {
            "number": data["seen_number"],
            "expires_on": data["seen_expires_on"],
            "verification": data["seen_verification"],
        }


def _seen_initial(licence) -> dict:
    return {
        "licence": licence.pk,
        "seen_number": licence.number,
        "seen_expires_on": licence.expires_on.isoformat(),
        "seen_verification": licence.verification,
    }


class VerifyForm(SeenMixin):
    licence = forms.IntegerField(widget=forms.HiddenInput)
    source = forms.ChoiceField(
        label=gettext_lazy("Where you checked it"),
        choices=[("", gettext_lazy("Choose a source")), *LicenceSource.choices],
        error_messages={"required": gettext_lazy("Choose where you checked the licence.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note (optional)"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy(
            "For example: active, no actions, checked against the number and name."
        ),
    )


class RefuseForm(SeenMixin):
    licence = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("What the source showed"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("Say what the source showed: the specialist reads it.")
        },
    )


PAGE_SIZE = 200


def _admin(request) -> None:
    if request.user.role != Role.ADMIN:
        raise Http404


def _page(request, *, forms_by_licence=None, status=200):
    forms_by_licence = forms_by_licence or {}
    waiting = [
        (
            licence,
            *forms_by_licence.get(
                licence.pk,
                (
                    VerifyForm(initial=_seen_initial(licence), prefix=f"v{licence.pk}"),
                    RefuseForm(initial=_seen_initial(licence), prefix=f"r{licence.pk}"),
                ),
            ),
        )
        for licence in credentialing.licences_waiting()[:PAGE_SIZE]
    ]
    context = {
        "waiting": waiting,
        "waiting_total": credentialing.licences_waiting().count(),
        "expiring": credentialing.licences_expiring()[:PAGE_SIZE],
        "refused": credentialing.licences_refused()[:PAGE_SIZE],
        "today": timezone.localdate(),
    }
    return render(request, "specialists/credentialing/home.html", context, status=status)


@login_required
def home(request):
    _admin(request)
    return _page(request)


def _answer(request, form_class, prefix_letter, act):
    _admin(request)
    licence_id = request.POST.get("licence", "")
    known = licence_id.isascii() and licence_id.isdigit() and len(licence_id) < 12
    prefix = f"{prefix_letter}{licence_id}" if known else prefix_letter
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            act(form)
        except ValidationError as error:
            for field, errors in (
                error.message_dict.items()
                if hasattr(error, "error_dict")
                else [(None, error.messages)]
            ):
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return None
    if not known or not credentialing.licences_waiting().filter(pk=licence_id).exists():
        # Decided by someone else meanwhile, removed, or never on the list.
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(
            request, problems[0] if known and problems else _("Choose a licence from the list.")
        )
        return redirect("credentialing:home")
    other_initial = {
        key.removeprefix(f"{prefix}-"): value
        for key, value in request.POST.items()
        if key.startswith(f"{prefix}-seen_") or key == f"{prefix}-licence"
    }
    other = (
        RefuseForm(initial=other_initial, prefix=f"r{licence_id}")
        if form_class is VerifyForm
        else VerifyForm(initial=other_initial, prefix=f"v{licence_id}")
    )
    pair = (form, other) if form_class is VerifyForm else (other, form)
    return _page(request, forms_by_licence={int(licence_id): pair}, status=400)


@require_POST
@login_required
def verify(request):
    response = _answer(
        request,
        VerifyForm,
        "v",
        lambda form: credentialing.licence_verify(
            actor=request.user,
            licence_id=form.cleaned_data["licence"],
            source=form.cleaned_data["source"],
            note=form.cleaned_data["note"],
            seen=form.seen(),
        ),
    )
    if response is not None:
        return response
    messages.success(
        request,
        _(
            "The licence is verified. It counts for matching from now on, "
            "and the specialist is told."
        ),
    )
    return redirect("credentialing:home")


@require_POST
@login_required
def refuse(request):
    response = _answer(
        request,
        RefuseForm,
        "r",
        lambda form: credentialing.licence_refuse(
            actor=request.user,
            licence_id=form.cleaned_data["licence"],
            note=form.cleaned_data["note"],
            seen=form.seen(),
        ),
    )
    if response is not None:
        return response
    messages.success(
        request,
        _(
            "The licence is refused. The specialist is told why, and open "
            "offers in that state go back to matching."
        ),
    )
    return redirect("credentialing:home")
