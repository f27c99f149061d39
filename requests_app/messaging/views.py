"""The thread page. Thin: the case through the thread's rule (404 for anyone but
the patient, the case manager and the assigned specialist), the form, one
service call, a response."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from requests_app.access import Relation, case_relation
from secondop.refusals import page_status

from . import selectors, services
from .forms import MessageForm

SENT = {
    "message": gettext_lazy("Your message is sent."),
    "question": gettext_lazy("Your question is sent. The patient is asked to answer it."),
    "internal": gettext_lazy("Your internal note is saved. The patient does not see it."),
}


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@login_required
def thread(request, ref):
    case = selectors.thread_case(viewer=request.user, ref=ref)
    relation = case_relation(request.user, case)
    is_owner = relation == Relation.OWNER
    is_caregiver = relation == Relation.CAREGIVER
    can_post = selectors.can_post(viewer=request.user, case=case)
    # A caregiver writes on the patient's side, but answers no question for them.
    questions = [] if is_caregiver else selectors.open_questions(case=case)
    form = None
    if can_post:
        # "Answer this question" links here with ?answer=<the question's uuid>.
        chosen = [str(q.uuid) for q in questions if str(q.uuid) == request.GET.get("answer")]
        form = MessageForm(
            request.POST or None,
            is_owner=is_owner or is_caregiver,
            questions=questions,
            attachable=None
            if is_caregiver
            else selectors.attachable_records(viewer=request.user, case=case),
            initial={"answers": chosen[0]} if chosen else None,
        )
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This request is closed, so no new messages can be sent."))
            return redirect("messaging:thread", case.uuid)
        if form.is_valid():
            try:
                message = services.message_post(
                    actor=request.user, case_ref=case.uuid, **form.message_kwargs()
                )
            except services.MessageError as error:
                error.apply_to(form)
            else:
                messages.success(request, SENT[form.cleaned_data.get("kind", "message")])
                return redirect(
                    reverse("messaging:thread", args=[case.uuid]) + f"#message-{message.uuid}"
                )
    return _thread_page(
        request,
        case,
        form=form,
        questions=questions,
        is_owner=is_owner,
        is_caregiver=is_caregiver,
        status=page_status(form),
    )


def _thread_page(request, case, *, form, questions, is_owner, is_caregiver, status):
    read_until = selectors.last_read_at(viewer=request.user, case=case)
    entries = selectors.thread_for_viewer(viewer=request.user, case=case)
    if entries:
        services.thread_mark_read(actor=request.user, case=case, until=entries[-1].created_at)
    unread = [
        m
        for m in entries
        if m.author_id != request.user.pk and (read_until is None or m.created_at > read_until)
    ]
    context = {
        "case": case,
        "is_owner": is_owner,
        "is_caregiver": is_caregiver,
        "form": form,
        "entries": entries,
        "unread_ids": {m.pk for m in unread},
        "questions": questions,
        "first_unread": unread[0] if unread else None,
        "closed": form is None,
    }
    return render(request, "messaging/thread.html", context, status=status)
