"""Who may hold a DLSEI license: every eligibility rule of the SOP in one place.

Each rule is a small function that returns the problems it finds as sentences a person
understands (an empty list means the rule holds). ``nominee_problems`` runs them all, so a focal
person or an alumnus sees every problem of a nomination at once, not one per attempt.

The one rule that reads the database is the duplicate rule (one license per person per phase):
its message depends on who is asking, so that a focal person never learns another university's
nominees.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Exists, Q, Subquery
from django.db.models.functions import Lower, Upper
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.roles import user_is_hec_staff
from core.text import text_problems
from quotas.models import Phase, University

from .cnic import cnic_mask, cnic_normalise
from .models import ACTIVE_STATUSES, Nomination, Role

MIN_PROGRAMME_YEARS = 16
MAX_PROGRAMME_YEARS = 30
MAX_NAME_LENGTH = 200
MAX_PHONE_LENGTH = 30
MAX_EMAIL_LENGTH = 254
UNIVERSITY_ROLES = (Role.STUDENT, Role.FACULTY)


@dataclass(frozen=True)
class NomineeData:
    """What a nomination says about the person, as typed (``nomination_submit`` normalises it).

    ``role`` is "student" or "faculty" for a university's nominee and "alumnus" for the alumni
    pool; ``programme_years`` matters for students only; the last three fields for alumni only.
    """

    full_name: str
    cnic: str
    email: str
    phone: str = ""
    role: str = Role.STUDENT
    programme_years: int | None = None
    disability: bool = False
    degree: str = ""
    graduated_from: str = ""
    graduation_date: datetime.date | None = None


# Normal forms ------------------------------------------------------------------------------------


def email_normalise(value: str) -> str:
    return (value or "").strip().lower()


def name_normalise(value: str) -> str:
    """Surrounding spaces off and runs of spaces inside made one."""
    return " ".join((value or "").split())


def nominee_normalise(data: NomineeData) -> NomineeData:
    """The same data with the CNIC as 13 digits (when it is one), e-mail lower case, texts stripped."""
    try:
        cnic = cnic_normalise(data.cnic)
    except ValueError:
        cnic = (data.cnic or "").strip()
    return NomineeData(
        full_name=name_normalise(data.full_name),
        cnic=cnic,
        email=email_normalise(data.email),
        phone=(data.phone or "").strip(),
        role=(data.role or "").strip().lower(),
        programme_years=data.programme_years,
        disability=bool(data.disability),
        degree=name_normalise(data.degree),
        graduated_from=name_normalise(data.graduated_from),
        graduation_date=data.graduation_date,
    )


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "j F Y")


def _moment(value: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y, H:i")


# The rules ---------------------------------------------------------------------------------------


def cnic_problems(value: str) -> list[str]:
    """A CNIC or B-form number: 13 digits, dashes optional (province and gender digits not judged)."""
    try:
        cnic_normalise(value)
    except ValueError as error:
        return [str(error)]
    return []


def full_name_problems(value: str) -> list[str]:
    hidden = text_problems(value or "", label=_("The full name"))
    if hidden:
        return hidden
    name = name_normalise(value)
    if not name:
        return [_("The full name is missing.")]
    if len(name) > MAX_NAME_LENGTH:
        return [
            _("The full name is %(count)d characters long; at most %(max)d fit.")
            % {"count": len(name), "max": MAX_NAME_LENGTH}
        ]
    return []


def email_problems(value: str) -> list[str]:
    email = email_normalise(value)
    if not email:
        return [_("The e-mail address is missing.")]
    if len(email) > MAX_EMAIL_LENGTH:
        return [_("The e-mail address is too long.")]
    try:
        validate_email(email)
    except ValidationError:
        return [_("“%(email)s” is not an e-mail address; it should look like name@example.edu.pk.") % {"email": email}]
    return []


def phone_problems(value: str) -> list[str]:
    hidden = text_problems(value or "", label=_("The phone number"))
    if hidden:
        return hidden
    if len((value or "").strip()) > MAX_PHONE_LENGTH:
        return [_("The phone number is too long; at most %(max)d characters fit.") % {"max": MAX_PHONE_LENGTH}]
    return []


def role_problems(role: str, *, university: University | None) -> list[str]:
    """Through a university: student or faculty. In the alumni pool: alumnus."""
    role = (role or "").strip().lower()
    if university is None:
        if role != Role.ALUMNUS:
            return [
                _("Only alumni register in the alumni pool; students and faculty are nominated by their university.")
            ]
        return []
    if role not in UNIVERSITY_ROLES:
        if role == Role.ALUMNUS:
            return [_("Alumni are not nominated by a university; they register themselves in the alumni pool.")]
        return [_("The role must be “student” or “faculty”, not “%(role)s”.") % {"role": role or _("blank")}]
    return []


def programme_problems(role: str, programme_years: int | None) -> list[str]:
    """Students need a programme of 16 years of education or more; faculty need no programme."""
    if (role or "").strip().lower() != Role.STUDENT:
        return []
    if programme_years is None:
        return [
            _(
                "Give the years of education of the student's programme (16 for a 4-year BS, 18 for MS/MPhil, "
                "and so on)."
            )
        ]
    if (
        not isinstance(programme_years, int)
        or isinstance(programme_years, bool)
        or not (1 <= programme_years <= MAX_PROGRAMME_YEARS)
    ):
        return [_("The programme's years of education must be a whole number such as 16 or 18.")]
    if programme_years < MIN_PROGRAMME_YEARS:
        return [
            _(
                "Only students of a programme of %(min)d years of education or more are eligible (BS 4-year, "
                "MS/MPhil, PhD …). A %(years)d-year programme such as a 2-year BA/BSc does not qualify."
            )
            % {"min": MIN_PROGRAMME_YEARS, "years": programme_years}
        ]
    return []


def disability_problems(value) -> list[str]:
    """The disability flag is yes or no (forms give a bool; files give text, see ``yes_no``)."""
    if isinstance(value, bool):
        return []
    try:
        yes_no(value)
    except ValueError as error:
        return [str(error)]
    return []


def yes_no(value: str | bool | None) -> bool:
    """ "yes"/"no" (also y/n, true/false, 1/0, any case; blank is no) → bool, else ValueError."""
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in ("", "no", "n", "false", "0"):
        return False
    if text in ("yes", "y", "true", "1"):
        return True
    raise ValueError(_("The disability column must say “yes” or “no”, not “%(value)s”.") % {"value": value})


def alumni_problems(data: NomineeData, *, phase: Phase) -> list[str]:
    """Alumni graduated inside the phase's window (both ends included) and say from what."""
    problems = text_problems(data.degree or "", label=_("The degree")) + text_problems(
        data.graduated_from or "", label=_("The university's name")
    )
    if problems:
        return problems + graduation_problems(data.graduation_date, phase=phase)
    if not name_normalise(data.degree):
        problems.append(_("Give the degree you graduated with, e.g. BS Computer Science."))
    elif len(name_normalise(data.degree)) > MAX_NAME_LENGTH:
        problems.append(_("The degree is too long; at most %(max)d characters fit.") % {"max": MAX_NAME_LENGTH})
    if not name_normalise(data.graduated_from):
        problems.append(_("Give the university you graduated from."))
    elif len(name_normalise(data.graduated_from)) > MAX_NAME_LENGTH:
        problems.append(
            _("The university's name is too long; at most %(max)d characters fit.") % {"max": MAX_NAME_LENGTH}
        )
    problems += graduation_problems(data.graduation_date, phase=phase)
    return problems


def graduation_problems(graduation_date: datetime.date | None, *, phase: Phase) -> list[str]:
    start, end = phase.alumni_graduated_from, phase.alumni_graduated_until
    window = {"start": _day(start), "end": _day(end)}
    if graduation_date is None:
        return [
            _("Give your graduation date; this phase is for alumni who graduated from %(start)s to %(end)s.") % window
        ]
    if not start <= graduation_date <= end:
        return [
            _(
                "This phase is for alumni who graduated from %(start)s to %(end)s (both days included); "
                "the graduation date given is %(day)s."
            )
            % {**window, "day": _day(graduation_date)}
        ]
    return []


def registration_open_problems(*, phase: Phase, now: datetime.datetime | None = None) -> list[str]:
    """Registration is open from ``registration_opens_at`` until (not including) ``registration_closes_at``."""
    now = now or timezone.now()
    if now < phase.registration_opens_at:
        return [
            _("Registration for %(phase)s opens on %(when)s.")
            % {"phase": phase.name, "when": _moment(phase.registration_opens_at)}
        ]
    if phase.registration_closes_at is not None and now >= phase.registration_closes_at:
        return [
            _("Registration for %(phase)s closed on %(when)s.")
            % {"phase": phase.name, "when": _moment(phase.registration_closes_at)}
        ]
    return []


def _non_learner_rows(emails: list[str]):
    """Who runs the programme, by address: HEC staff and focal-person accounts' addresses, and the
    e-mail of such accounts made without one (e.g. by ``createsuperuser``). Two querysets of the
    matching lower-case addresses."""
    runs_it = Q(is_staff=True) | Q(is_superuser=True) | Q(focal_person__isnull=False)
    by_address = EmailAddress.objects.filter(
        Q(user__is_staff=True) | Q(user__is_superuser=True) | Q(user__focal_person__isnull=False), email__in=emails
    ).values_list("email", flat=True)
    by_account = (
        get_user_model()
        .objects.annotate(email_upper=Upper("email"))
        .filter(runs_it, email_upper__in=[e.upper() for e in emails])
        .values_list(Lower("email"), flat=True)
    )
    return by_address, by_account


def non_learner_addresses(emails: Iterable[str]) -> set[str]:
    """Of these (normalised) addresses, those of HEC staff or focal-person accounts, whose holders
    run the programme and are never its learners. One query for any number of addresses."""
    wanted = sorted({e for e in emails if e})
    if not wanted:
        return set()
    by_address, by_account = _non_learner_rows(wanted)
    return set(by_address.union(by_account))


def non_learner_address_exists(email: str) -> dict[str, Exists]:
    """The same rule for one address, as annotations of a query the caller makes anyway (the
    seat's quota, on the hot path of a nomination): ``runs_programme_address`` and
    ``runs_programme_account`` are true when the address is a staff or focal person's."""
    by_address, by_account = _non_learner_rows([email])
    return {"runs_programme_address": Exists(by_address), "runs_programme_account": Exists(by_account)}


def non_learner_message(email: str) -> str:
    return _(
        "%(email)s is the address of an HEC staff or focal person account, which cannot hold a license. "
        "Nominate the person with their own e-mail address."
    ) % {"email": email}


def _duplicates(*, phase: Phase, cnic: str, email: str, exclude_id: int | None = None):
    match = Q()
    if cnic:
        match |= Q(cnic=cnic)
    if email:
        match |= Q(email=email)
    if not match:
        return Nomination.objects.none()
    found = Nomination.objects.filter(match, phase=phase, status__in=ACTIVE_STATUSES)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found.order_by("id")


def duplicate_find(*, phase: Phase, cnic: str, email: str, exclude_id: int | None = None) -> Nomination | None:
    """The earliest active (seated or waiting) nomination of the phase with this CNIC or e-mail."""
    return _duplicates(phase=phase, cnic=cnic, email=email, exclude_id=exclude_id).select_related("university").first()


def duplicate_first_id(*, phase: Phase, cnic: str, email: str) -> Subquery:
    """``duplicate_find``'s nomination id as a subquery, to ride along a query the caller makes anyway."""
    return Subquery(_duplicates(phase=phase, cnic=cnic, email=email).values("id")[:1])


DUPLICATES_CHUNK = 500


def duplicates_find_many(
    *, phase: Phase, cnics: Iterable[str], emails: Iterable[str]
) -> tuple[dict[str, Nomination], dict[str, Nomination]]:
    """``duplicate_find`` for a whole list at once: the earliest active nomination of the phase
    for each given CNIC and for each given e-mail, as two dicts (absent keys: none found).

    One query per 500 CNICs and e-mails instead of one per person."""
    cnics = sorted({c for c in cnics if c})
    emails = sorted({e for e in emails if e})
    by_cnic: dict[str, Nomination] = {}
    by_email: dict[str, Nomination] = {}
    for start in range(0, max(len(cnics), len(emails)), DUPLICATES_CHUNK):
        cnic_part = cnics[start : start + DUPLICATES_CHUNK]
        email_part = emails[start : start + DUPLICATES_CHUNK]
        match = Q(cnic__in=cnic_part) | Q(email__in=email_part)
        found = (
            Nomination.objects.filter(match, phase=phase, status__in=ACTIVE_STATUSES)
            .select_related("university")
            .order_by("id")
        )
        for nomination in found:
            for key, index in ((nomination.cnic, by_cnic), (nomination.email, by_email)):
                if key not in index or nomination.pk < index[key].pk:
                    index[key] = nomination
    return by_cnic, by_email


def duplicate_pick(
    *, by_cnic: dict[str, Nomination], by_email: dict[str, Nomination], cnic: str, email: str
) -> Nomination | None:
    """From ``duplicates_find_many``'s answer, what ``duplicate_find`` would say for one person."""
    found = [n for n in (by_cnic.get(cnic) if cnic else None, by_email.get(email) if email else None) if n]
    return min(found, key=lambda n: n.pk) if found else None


def duplicate_message(
    *,
    existing: Nomination,
    cnic: str,
    email: str,
    university: University | None,
    viewer,
    viewer_university: University | None = None,
) -> str:
    """Say where the person's first nomination is, telling each viewer only what they may know.

    HEC staff learn the university; a focal person of the same university learns the row; anyone
    else (another university, an alumnus) only that the person is registered elsewhere.
    ``viewer_university`` names the viewer's university when there is no user at hand (the
    preview of a university's file is read by that university's focal person).
    """
    what = _("This CNIC") if existing.cnic == cnic else _("This e-mail address")
    if viewer is not None and user_is_hec_staff(viewer):
        where = existing.university.code if existing.university_id else _("the alumni pool")
        return _("%(what)s is already registered in this phase, in %(where)s (nomination no. %(id)d, %(status)s).") % {
            "what": what,
            "where": where,
            "id": existing.pk,
            "status": existing.get_status_display().lower(),
        }
    viewer_university_id = getattr(getattr(viewer, "focal_person", None), "university_id", None) or (
        viewer_university.pk if viewer_university is not None else None
    )
    same_side = (
        existing.university_id is not None
        and existing.university_id == (university.pk if university else None)
        and viewer_university_id == existing.university_id
    )
    if same_side:
        return _(
            "%(what)s is already nominated by your university: %(name)s, CNIC %(cnic)s, nomination no. %(id)d "
            "(%(status)s)."
        ) % {
            "what": what,
            "name": existing.full_name,
            "cnic": cnic_mask(existing.cnic),
            "id": existing.pk,
            "status": existing.get_status_display().lower(),
        }
    # An alumnus registers with their own verified address: the same address in the alumni pool is them.
    if university is None and existing.university_id is None and existing.email == email:
        return _("You are already registered in the alumni pool of this phase (%(status)s).") % {
            "status": existing.get_status_display().lower()
        }
    return _(
        "%(what)s is already registered in this phase through another university or the alumni pool. "
        "One person may hold one license per phase."
    ) % {"what": what}


def duplicate_problems(
    *,
    phase: Phase,
    cnic: str,
    email: str,
    university: University | None,
    viewer,
    exclude_id: int | None = None,
    viewer_university: University | None = None,
) -> list[str]:
    """One license per person per phase: the same CNIC or e-mail may not be active twice."""
    existing = duplicate_find(phase=phase, cnic=cnic, email=email, exclude_id=exclude_id)
    if existing is None:
        return []
    return [
        duplicate_message(
            existing=existing,
            cnic=cnic,
            email=email,
            university=university,
            viewer=viewer,
            viewer_university=viewer_university,
        )
    ]


def nominee_problems(
    *,
    phase: Phase,
    university: University | None,
    data: NomineeData,
    viewer,
    now: datetime.datetime | None = None,
    check_duplicates: bool = True,
    check_open: bool = True,
    viewer_university: University | None = None,
) -> list[str]:
    """Every eligibility problem of one nomination, in the order a person reads the form."""
    problems: list[str] = []
    if check_open:
        problems += registration_open_problems(phase=phase, now=now)
    problems += full_name_problems(data.full_name)
    problems += cnic_problems(data.cnic)
    problems += email_problems(data.email)
    problems += phone_problems(data.phone)
    role_wrong = role_problems(data.role, university=university)
    problems += role_wrong
    if not role_wrong:
        if university is None:
            problems += alumni_problems(data, phase=phase)
        else:
            problems += programme_problems(data.role, data.programme_years)
    problems += disability_problems(data.disability)
    if check_duplicates:
        normal = nominee_normalise(data)
        cnic = normal.cnic if not cnic_problems(data.cnic) else ""
        email = normal.email if not email_problems(data.email) else ""
        if email in non_learner_addresses([email]):
            problems.append(non_learner_message(email))
        problems += duplicate_problems(
            phase=phase,
            cnic=cnic,
            email=email,
            university=university,
            viewer=viewer,
            viewer_university=viewer_university,
        )
    return problems
