"""Writes to a specialist's profile: the specialist edits their own, an
administrator any (the Django admin). Each service locks the profile row, checks
its own preconditions, saves, and writes an audit row in the same transaction.

Services take plain data (codes, dates, a Certification, an uploaded file), never
a form, and raise ValidationError with a message fit to show the person."""

import io
import uuid
import warnings
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from requests_app.icd10.models import Icd10Code
from requests_app.icd10.ranges import normalise_icd10_code
from secondop.accounts.models import Role, User
from secondop.audit.services import log_event

from . import credentialing
from .models import (
    Certification,
    ConsultationMode,
    HeldCertification,
    LeavePeriod,
    Licence,
    SpecialistProfile,
)

# --- Photos ---------------------------------------------------------------------------
PHOTO_MAX_BYTES = 5 * 1024 * 1024
# Pillow's format name -> the stored file's extension and the Content-Type it is served with.
PHOTO_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}
PHOTO_CONTENT_TYPES = dict(PHOTO_FORMATS.values())
PHOTO_DIRECTORY = "specialists/photos/"
# A portrait needs no more; re-encoding at this size also drops what the camera
# wrote into the file (GPS position, serial numbers) and anything hidden after the image.
PHOTO_MAX_SIDE = 1200
# Far below Pillow's own decompression-bomb limit: a 5 MB file that claims
# 100,000 x 100,000 pixels is refused before it is decoded.
PHOTO_MAX_PIXELS = 40_000_000

PROFILE_FIELDS = (
    "credential",
    "title",
    "npi",
    "subspecialty",
    "institution",
    "bio",
    "languages",
    "insurance_networks",
    "consultation_modes",
    "accepting_cases",
    "max_open_cases",
    "turnaround_days",
)


def photo_too_big() -> ValidationError:
    return ValidationError(_("The photo must be smaller than 5 MB."), code="too_big")


def photo_not_an_image() -> ValidationError:
    return ValidationError(_("The photo must be a JPEG or PNG image."), code="invalid_image")


def photo_format(upload: File) -> str:
    """The Pillow format of an uploaded JPEG or PNG ("JPEG", "PNG"), read from its
    content, never from its name or the type the browser declared. Checks the
    structure without decoding the pixels; raises ValidationError otherwise."""
    if upload.size > PHOTO_MAX_BYTES:
        raise photo_too_big()
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                found = image.format
                width, height = image.size
                image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise photo_not_an_image() from None
    finally:
        upload.seek(0)
    if found not in PHOTO_FORMATS or width * height > PHOTO_MAX_PIXELS:
        raise photo_not_an_image()
    return found


def _reencoded_photo(upload: File) -> tuple[bytes, str]:
    """The photo decoded and written again (upright, at most PHOTO_MAX_SIDE pixels
    a side, no metadata), and its format."""
    found = photo_format(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as opened:
                image = ImageOps.exif_transpose(opened)
                image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
                out = io.BytesIO()
                if found == "JPEG":
                    if image.mode not in ("RGB", "L"):
                        image = image.convert("RGB")
                    image.save(out, format="JPEG", quality=88, optimize=True)
                else:
                    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                        image = image.convert("RGBA")
                    image.save(out, format="PNG", optimize=True)
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise photo_not_an_image() from None
    finally:
        upload.seek(0)
    return out.getvalue(), found


# --- Who may change a profile -----------------------------------------------------------
def _may_edit(actor: User, profile: SpecialistProfile) -> bool:
    if not (actor.is_authenticated and actor.is_active):
        return False
    if actor.role == Role.SPECIALIST:
        return profile.user_id == actor.pk
    return actor.role == Role.ADMIN and actor.is_staff


def _locked(actor: User, profile: SpecialistProfile) -> SpecialistProfile:
    """The profile's row, locked for the rest of the transaction, once the actor
    may edit it: concurrent edits of the lists it holds queue, not overwrite."""
    if not _may_edit(actor, profile):
        raise PermissionDenied
    return SpecialistProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


# --- The main details ---------------------------------------------------------------------
@transaction.atomic
def specialist_profile_update(
    *,
    actor: User,
    profile: SpecialistProfile | None,
    data: dict[str, Any],
) -> SpecialistProfile:
    """Save the main details. `profile=None`: the actor is a specialist without a
    profile yet, and this creates it. `data` holds the PROFILE_FIELDS and
    `specialties` (Specialty objects)."""
    created = False
    if profile is None:
        if not (actor.is_authenticated and actor.is_active and actor.role == Role.SPECIALIST):
            raise PermissionDenied
        profile, created = SpecialistProfile.objects.get_or_create(
            user=actor, defaults={"title": data["title"], "institution": data["institution"]}
        )
    profile = _locked(actor, profile)
    modes = data.get("consultation_modes", [])
    if any(mode not in ConsultationMode.values for mode in modes):
        raise ValidationError({"consultation_modes": _("Choose from the list.")})
    old = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    old_specialties = sorted(profile.specialties.values_list("slug", flat=True))
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(profile, name, data[name])
    new = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    changed = [name for name in PROFILE_FIELDS if old[name] != new[name]]
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    new_specialties = old_specialties
    if "specialties" in data:
        profile.specialties.set(data["specialties"])
        new_specialties = sorted(s.slug for s in data["specialties"])
    if new_specialties != old_specialties:
        old["specialties"], new["specialties"] = old_specialties, new_specialties
        changed.append("specialties")
    if created:
        new["specialties"] = new_specialties
        log_event(
            actor=actor,
            action="specialists.profile.created",
            obj=profile,
            new={name: _jsonable(value) for name, value in new.items()},
        )
    elif changed:
        log_event(
            actor=actor,
            action="specialists.profile.updated",
            obj=profile,
            old={name: _jsonable(old[name]) for name in changed},
            new={name: _jsonable(new[name]) for name in changed},
        )
    return profile


# --- Conditions treated ---------------------------------------------------------------------
def icd10_code_lookup(text: str) -> Icd10Code | None:
    """The ICD-10-CM code or category a person typed or picked ("C50", "c50.9",
    "C509", "C50.9 Malignant neoplasm..."), or None."""
    words = (text or "").strip().upper().split()
    token = words[0].replace(".", "") if words else ""
    if not token:
        return None
    code = token if len(token) <= 3 else f"{token[:3]}.{token[3:]}"
    return Icd10Code.objects.filter(code=code).first()


def condition_already_listed(conditions: list[str], code: str) -> str | None:
    """The listed code that already covers `code` (itself, or its category), if any."""
    wanted = normalise_icd10_code(code)
    return next((c for c in conditions if wanted.startswith(normalise_icd10_code(c))), None)


@transaction.atomic
def specialist_condition_add(
    *,
    actor: User,
    profile: SpecialistProfile,
    code: str,
) -> SpecialistProfile:
    profile = _locked(actor, profile)
    found = icd10_code_lookup(code)
    if found is None:
        raise ValidationError(
            {
                "code": _("We could not find the code “%(code)s”. Choose one from the list.")
                % {"code": code[:20]}
            }
        )
    covering = condition_already_listed(profile.conditions, found.code)
    if covering:
        raise ValidationError(
            {
                "code": _("%(code)s is already on your list (as %(listed)s).")
                % {"code": found.code, "listed": covering}
            }
        )
    old = list(profile.conditions)
    profile.conditions = sorted([*old, found.code])
    profile.save(update_fields=["conditions", "updated_at"])
    log_event(
        actor=actor,
        action="specialists.profile.condition_added",
        obj=profile,
        old={"conditions": old},
        new={"conditions": profile.conditions},
    )
    return profile


@transaction.atomic
def specialist_condition_remove(
    *,
    actor: User,
    profile: SpecialistProfile,
    code: str,
) -> bool:
    """Remove one listed code; False (and nothing written) if it is not listed."""
    profile = _locked(actor, profile)
    old = list(profile.conditions)
    if code not in old:
        return False
    profile.conditions = [c for c in old if c != code]
    profile.save(update_fields=["conditions", "updated_at"])
    log_event(
        actor=actor,
        action="specialists.profile.condition_removed",
        obj=profile,
        old={"conditions": old},
        new={"conditions": profile.conditions},
    )
    return True


# --- Board certifications ---------------------------------------------------------------------
def certification_year_error(year: int) -> str | None:
    if year > timezone.localdate().year:
        return _("The year cannot be in the future.")
    if year < 1950:
        return _("Enter a year from 1950 on.")
    return None


@transaction.atomic
def specialist_certification_add(
    *,
    actor: User,
    profile: SpecialistProfile,
    certification: Certification,
    year: int,
) -> HeldCertification:
    profile = _locked(actor, profile)
    if not certification.active:
        raise ValidationError({"certification": _("Choose a certification from the list.")})
    error = certification_year_error(year)
    if error:
        raise ValidationError({"year": error})
    if profile.certifications.filter(certification=certification).exists():
        raise ValidationError(
            {"certification": _("%(name)s is already on your profile.") % {"name": certification}}
        )
    held = HeldCertification.objects.create(profile=profile, certification=certification, year=year)
    log_event(
        actor=actor,
        action="specialists.profile.certification_added",
        obj=profile,
        new={"certification": certification.slug, "year": year},
    )
    return held


@transaction.atomic
def specialist_certification_remove(
    *,
    actor: User,
    profile: SpecialistProfile,
    certification_slug: str,
) -> bool:
    profile = _locked(actor, profile)
    held = (
        profile.certifications.select_related("certification")
        .filter(certification__slug=certification_slug)
        .first()
    )
    if held is None:
        return False
    held.delete()
    log_event(
        actor=actor,
        action="specialists.profile.certification_removed",
        obj=profile,
        old={"certification": certification_slug, "year": held.year},
    )
    return True


# --- State licences ---------------------------------------------------------------------------
def licence_expiry_error(expires_on: date) -> str | None:
    if expires_on < timezone.localdate():
        return _("This date is in the past: enter the expiry date of a current licence.")
    return None


def _licence_values(licence: Licence) -> dict[str, str]:
    return {
        "state": licence.state,
        "number": licence.number,
        "expires_on": licence.expires_on.isoformat(),
    }


@transaction.atomic
def specialist_licence_add(
    *,
    actor: User,
    profile: SpecialistProfile,
    state: str,
    number: str,
    expires_on: date,
) -> Licence:
    profile = _locked(actor, profile)
    error = licence_expiry_error(expires_on)
    if error:
        raise ValidationError({"expires_on": error})
    existing = profile.licences.filter(state=state).first()
    if existing is not None:
        raise ValidationError(
            {
                "state": _("You already have a licence in %(state)s: change that one instead.")
                % {"state": existing.get_state_display()}
            }
        )
    licence = Licence.objects.create(
        profile=profile, state=state, number=number.strip(), expires_on=expires_on
    )
    log_event(
        actor=actor,
        action="specialists.profile.licence_added",
        obj=profile,
        new=_licence_values(licence),
    )
    return licence


@transaction.atomic
def specialist_licence_update(
    *,
    actor: User,
    profile: SpecialistProfile,
    state: str,
    number: str,
    expires_on: date,
) -> Licence:
    """Change the number or expiry date of the licence held in `state` (a renewal)."""
    profile = _locked(actor, profile)
    licence = profile.licences.select_for_update().filter(state=state).first()
    if licence is None:
        raise ValidationError(_("You have no licence in this state."))
    error = licence_expiry_error(expires_on)
    if error:
        raise ValidationError({"expires_on": error})
    old = _licence_values(licence)
    number_changed = licence.number != number.strip()
    licence.number, licence.expires_on = number.strip(), expires_on
    new = _licence_values(licence)
    if new != old:
        fields = ["number", "expires_on"]
        if number_changed:
            # Another number is a licence nobody has checked: it waits again, and
            # open offers in that state go back to matching.
            was_checked = credentialing.licence_reset_verification(licence)
            fields += [
                "verification",
                "verified_by",
                "verified_at",
                "verification_source",
                "verified_expires_on",
            ]
            new["verification"] = licence.verification
        licence.save(update_fields=fields)
        log_event(
            actor=actor,
            action="specialists.profile.licence_changed",
            obj=profile,
            old=old,
            new=new,
        )
        if (number_changed and was_checked) or old["expires_on"] > new["expires_on"]:
            # A new expiry date is checked like a new licence: until then the
            # date the administrator saw still applies (an earlier one at once).
            credentialing.offers_recheck(profile_id=profile.pk, state=state)
    return licence


@transaction.atomic
def specialist_licence_remove(
    *,
    actor: User,
    profile: SpecialistProfile,
    state: str,
) -> bool:
    profile = _locked(actor, profile)
    licence = profile.licences.filter(state=state).first()
    if licence is None:
        return False
    old = _licence_values(licence)
    licence.delete()
    log_event(
        actor=actor,
        action="specialists.profile.licence_removed",
        obj=profile,
        old=old,
    )
    credentialing.offers_recheck(profile_id=profile.pk, state=state)
    return True


# --- Leave ------------------------------------------------------------------------------------
def leave_errors(
    *, starts_on: date, ends_on: date, others: Iterable[LeavePeriod]
) -> dict[str, str]:
    """What is wrong with a period of leave, by field: it must end on or after it
    starts, not be over already, and not overlap another period (`others`)."""
    if ends_on < starts_on:
        return {"ends_on": _("The last day away must be the same as or after the first day away.")}
    if ends_on < timezone.localdate():
        return {"ends_on": _("The last day away must be today or later.")}
    for other in others:
        if other.starts_on <= ends_on and other.ends_on >= starts_on:
            return {
                "starts_on": _("These dates overlap your leave from %(start)s to %(end)s.")
                % {
                    "start": date_format(other.starts_on, "DATE_FORMAT"),
                    "end": date_format(other.ends_on, "DATE_FORMAT"),
                }
            }
    return {}


@transaction.atomic
def specialist_leave_add(
    *,
    actor: User,
    profile: SpecialistProfile,
    starts_on: date,
    ends_on: date,
) -> LeavePeriod:
    profile = _locked(actor, profile)
    errors = leave_errors(starts_on=starts_on, ends_on=ends_on, others=profile.leave.all())
    if errors:
        raise ValidationError(errors)
    leave = LeavePeriod.objects.create(profile=profile, starts_on=starts_on, ends_on=ends_on)
    log_event(
        actor=actor,
        action="specialists.profile.leave_added",
        obj=profile,
        new={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    return leave


@transaction.atomic
def specialist_leave_remove(
    *,
    actor: User,
    profile: SpecialistProfile,
    leave_id: int,
) -> bool:
    """Remove one of the profile's own periods of leave (another profile's id finds nothing)."""
    profile = _locked(actor, profile)
    leave = profile.leave.filter(pk=leave_id).first()
    if leave is None:
        return False
    old = {"starts_on": leave.starts_on.isoformat(), "ends_on": leave.ends_on.isoformat()}
    leave.delete()
    log_event(
        actor=actor,
        action="specialists.profile.leave_removed",
        obj=profile,
        old=old,
    )
    return True


# --- Photo ------------------------------------------------------------------------------------
def _delete_on_commit(name: str | None) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


@transaction.atomic
def specialist_photo_set(
    *,
    actor: User,
    profile: SpecialistProfile,
    upload: File,
) -> SpecialistProfile:
    """Verify the upload with Pillow (JPEG or PNG, at most 5 MB), store it again
    re-encoded under a random name, and drop the old photo once committed. The
    name is never the uploader's: it is the photo's public URL, and a new photo
    gets a new URL, so the old one can be cached for ever."""
    profile = _locked(actor, profile)
    content, found = _reencoded_photo(upload)
    extension = PHOTO_FORMATS[found][0]
    name = default_storage.save(
        f"{PHOTO_DIRECTORY}{uuid.uuid4().hex}.{extension}", ContentFile(content)
    )
    old = profile.photo.name
    profile.photo.name = name
    profile.save(update_fields=["photo", "updated_at"])
    _delete_on_commit(old)
    log_event(
        actor=actor,
        action="specialists.profile.photo_changed",
        obj=profile,
        old={"photo": old},
        new={"photo": name, "format": found},
    )
    return profile


@transaction.atomic
def specialist_photo_remove(*, actor: User, profile: SpecialistProfile) -> bool:
    profile = _locked(actor, profile)
    old = profile.photo.name
    if not old:
        return False
    profile.photo.name = ""
    profile.save(update_fields=["photo", "updated_at"])
    _delete_on_commit(old)
    log_event(
        actor=actor,
        action="specialists.profile.photo_removed",
        obj=profile,
        old={"photo": old},
    )
    return True
