"""Caregivers for tests: an invitation (through the service, so its link and email
are real) and an accepted grant."""

from requests_app.caregivers import services


def caregiver_invitation(owner, cases, *, email="cara.new@example.com", name="Cara New", **rights):
    """An invitation from `owner` to follow `cases`, not accepted: (it, its link's token)."""
    caregiver = services.caregiver_invite(
        actor=owner, name=name, email=email, case_refs=[c.uuid for c in cases], **rights
    )
    return caregiver, services.invitation_token(caregiver)


def caregiver_grant(owner, user, cases, **rights):
    """`user`, invited by `owner` to follow `cases` with `rights`, has accepted."""
    _caregiver, token = caregiver_invitation(
        owner, cases, email=user.email, name=user.full_name, **rights
    )
    return services.caregiver_accept(actor=user, token=token)
