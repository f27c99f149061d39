"""The kinds of notification specialists' own services send (credentialing),
registered in SpecialistsConfig.ready(). The offer itself (made, accepted,
declined) is a move of the case workflow: requests_app.notices declares those."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

OFFER_WITHDRAWN = "offer_withdrawn"
CREDENTIALING = "credentialing"

KINDS = (
    NoticeKind(OFFER_WITHDRAWN, _("An offer to you is taken back"), {Role.SPECIALIST}),
    NoticeKind(
        CREDENTIALING,
        _("A state licence is verified, refused or about to expire"),
        {Role.SPECIALIST, Role.ADMIN},
    ),
)
