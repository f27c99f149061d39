"""The report panel that requests_app's case pages include: the case pages know
nothing of reports, so the panel brings its own data (DESIGN.md, Layers)."""

from django import template

from requests_app.access import Relation
from requests_app.reports import selectors, services
from requests_app.reports.models import VersionStatus

register = template.Library()


@register.inclusion_tag("reports/includes/case_panel.html", takes_context=True)
def report_panel(context, case):
    user = context["request"].user
    shown = selectors.sees_report(viewer=user, case=case)
    versions = selectors.versions_of(viewer=user, case=case) if shown else []
    newest = versions[0] if versions else None
    relation = selectors.report_relation(viewer=user, case=case)
    is_author = relation == Relation.ASSIGNED_SPECIALIST
    released = next((v for v in versions if v.status == VersionStatus.RELEASED), None)
    if shown:
        # The newest released version, as selectors.released_version reads it: the
        # page's other panels (aftercare) take it from here.
        context.render_context[(selectors.RELEASED_ON_PAGE, case.pk)] = released
    return {
        "case": case,
        "shown": shown,
        "is_owner": relation == Relation.OWNER,
        "is_author": is_author,
        "is_manager": relation == Relation.CASE_MANAGER,
        "newest": newest,
        "released": released,
        "can_start": is_author and not versions and case.status in services.WRITABLE_STATUSES,
    }


@register.filter
def grouped_code(code: str) -> str:
    """A verification code as the PDF prints it (two groups of five)."""
    from requests_app.reports.codes import grouped

    return grouped(code) if code else ""


@register.inclusion_tag("reports/includes/third_opinion_panel.html", takes_context=True)
def third_opinion_panel(context, case):
    """A third opinion on the case pages: on a request whose opinion differs, the
    patient's offer to ask for one (or the one asked for); on the third opinion
    itself, what it is, and once signed or released the opinions side by side (and
    the case manager's reconciliation form)."""
    from requests_app.access import case_relation
    from requests_app.reports import third_opinion
    from requests_app.reports.forms import ReconcileForm

    user = context["request"].user
    relation = case_relation(user, case)
    data = {"case": case, "relation": relation, "show": False}
    if case.parent_id is None:
        if relation == Relation.OWNER:
            child = third_opinion.third_opinion_of(case=case)
            offered = child is None and third_opinion.third_opinion_offered(
                viewer=user,
                case=case,
                released=context.render_context.get((selectors.RELEASED_ON_PAGE, case.pk)),
                asked=False,
            )
            data.update(show=bool(child or offered), child=child, offered=offered)
        return data
    if relation not in (Relation.OWNER, Relation.CASE_MANAGER, Relation.ASSIGNED_SPECIALIST):
        return data
    versions = selectors.versions_for_viewer(viewer=user, case=case)
    signed = versions.exclude(status=VersionStatus.DRAFT).exists()
    released = selectors.released_version(case=case) is not None
    data.update(
        show=True,
        parent_ref=type(case)
        .objects.filter(pk=case.parent_id)
        .values_list("reference", flat=True)
        .first(),
        comparable=released if relation == Relation.OWNER else signed,
        released=released,
        form=ReconcileForm(initial={"text": case.reconciliation})
        if relation == Relation.CASE_MANAGER and released
        else None,
    )
    return data
