"""The records panel that requests_app's case pages include: requests_app never
imports records, so the panel brings its own data (DESIGN.md, Layers)."""

from django import template

from records import selectors, services
from records.models import State
from requests_app import access

register = template.Library()


@register.inclusion_tag("records/includes/case_panel.html", takes_context=True)
def records_panel(context, case):
    user = context["request"].user
    shown = access.is_care_team(viewer=user, case=case)
    counts = {}
    unscanned = flagged = 0
    if shown:
        for record in selectors.records_for_viewer(viewer=user, case=case).only(
            "state", "virus_scan_skipped", "identity"
        ):
            counts[record.state] = counts.get(record.state, 0) + 1
            if record.state == State.VERIFIED and record.awaits_patient:
                # Labelled for another person: not ready, it waits for the patient's
                # answer (only the patient is shown it).
                flagged += 1
                continue
            unscanned += record.state == State.VERIFIED and record.virus_scan_skipped
    return {
        "case": case,
        "shown": shown,
        "is_owner": access.is_owner(user, case),
        "asked": list(selectors.open_requests(case=case)) if shown else [],
        "verified": counts.get(State.VERIFIED, 0) - flagged,
        "flagged": flagged,
        "unscanned": unscanned,
        "checking": counts.get(State.UPLOADED, 0) + counts.get(State.SCANNING, 0),
        "rejected": counts.get(State.REJECTED, 0),
        "total": sum(counts.values()),
        "can_upload": shown and services.can_upload(user=user, case=case),
    }
