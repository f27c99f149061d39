"""The form-post helper for views: one form, one service call, a message, a
redirect; or the page again with what was typed, its errors and the right status.

    def fee_confirm(request, case):
        form = FeeConfirmForm(posted(request))
        return form_post(
            request,
            form,
            act=lambda data: services.case_fee_confirm(actor=request.user, case_ref=case.uuid, **data),
            success=_("The fee is confirmed."),
            then=lambda _result: reverse("requests_app:staff_case", args=[case.uuid]),
            page=lambda form, status: _page(request, case, form=form, status=status),
        )

A GET shows the page (200); a POST whose form is invalid shows it with 400; a
service's Refusal goes onto the form (refusals.Refusal.apply_to) with its status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from .refusals import Refusal, page_status


def posted(request: HttpRequest) -> QueryDict | None:
    """The form's data: an empty POST is still a POST (its errors are shown)."""
    return request.POST if request.method == "POST" else None


def form_post[T](
    request: HttpRequest,
    form: Any,
    *,
    act: Callable[[dict[str, Any]], T],
    then: Callable[[T], str | HttpResponse],
    page: Callable[[Any, int], HttpResponse],
    success: str | Callable[[T], str] | None = None,
    refusals: type[Refusal] | tuple[type[Refusal], ...] = Refusal,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            result = act(form.cleaned_data)
        except refusals as refusal:
            refusal.apply_to(form)
        else:
            if success is not None:
                messages.success(request, success(result) if callable(success) else success)
            target = then(result)
            return target if isinstance(target, HttpResponse) else redirect(target)
    return page(form, page_status(form))
