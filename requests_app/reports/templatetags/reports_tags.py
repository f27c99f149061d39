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
    return {
        "case": case,
        "shown": shown,
        "is_owner": relation == Relation.OWNER,
        "is_author": is_author,
        "is_manager": relation == Relation.CASE_MANAGER,
        "newest": newest,
        "released": next((v for v in versions if v.status == VersionStatus.RELEASED), None),
        "can_start": is_author and not versions and case.status in services.WRITABLE_STATUSES,
    }


@register.filter
def grouped_code(code: str) -> str:
    """A verification code as the PDF prints it (two groups of five)."""
    from requests_app.reports.codes import grouped

    return grouped(code) if code else ""
