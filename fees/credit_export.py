"""Completions for academic credit: the Coursera courses a university's learners completed, as a
file its focal person hands to the examinations office (HEC advises universities to count
Coursera certificates toward academic credit).

One row per completion the portal has imported (course, type, date, grade, certificate link),
whatever the learner's status now: a learner withdrawn later, or removed from the program on
Coursera, still completed what they completed. Every type is listed with its type (courses,
guided projects, specializations, professional certificates): the examinations office decides
what earns credit. The CNIC is written in full, as the focal person entered it (12345-1234567-1):
the file is the university's own record of its own students. Written through ``core.tabular``,
so no cell can run as a formula.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.tabular import write_csv, write_xlsx
from quotas.models import Phase, University
from registrations.cnic import cnic_format, cnic_mask
from registrations.models import Role

from .exceptions import FeeError
from .models import CourseCompletion

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class CreditRow:
    university_code: str
    full_name: str
    cnic: str  # 12345-1234567-1
    email: str
    role: str  # as the page shows it ("Student")
    course: str
    course_type: str
    completed_on: dt.date
    grade: str
    certificate_url: str

    @property
    def cnic_masked(self) -> str:
        return cnic_mask(self.cnic)

    @property
    def certificate_link(self) -> str:
        """The certificate URL when it is a web address (a page links nothing else from a report)."""
        return self.certificate_url if self.certificate_url.lower().startswith(("https://", "http://")) else ""


def credit_completions(*, phase: Phase, university: University | None = None) -> QuerySet[CourseCompletion]:
    """The completions of the phase's learners (of one university when given), by university,
    learner and date."""
    completions = CourseCompletion.objects.filter(nomination__phase=phase)
    if university is not None:
        completions = completions.filter(nomination__university=university)
    return completions.order_by("nomination__university__code", "nomination__full_name", "nomination_id",
                                "completed_at", "id")  # fmt: skip


def credit_rows(*, phase: Phase, university: University | None = None, limit: int | None = None) -> list[CreditRow]:
    roles = dict(Role.choices)
    rows = credit_completions(phase=phase, university=university).values_list(
        "nomination__university__code", "nomination__full_name", "nomination__cnic", "nomination__email",
        "nomination__role", "course_name", "course_type", "completed_on", "grade", "certificate_url",
    )  # fmt: skip
    if limit is not None:
        rows = rows[:limit]
    return [
        CreditRow(
            university_code=code or "",
            full_name=name,
            cnic=cnic_format(cnic),
            email=email,
            role=str(roles.get(role, role)),
            course=course,
            course_type=kind,
            completed_on=completed_on,
            grade=grade,
            certificate_url=url,
        )
        for code, name, cnic, email, role, course, kind, completed_on, grade, url in rows
    ]


def credit_export(*, phase: Phase, fmt: str, university: University | None = None) -> tuple[str, str, bytes]:
    """(file name, content type, content) of the completions as CSV or XLSX, one row per completion."""
    if fmt not in FORMATS:
        raise FeeError(_("Completions are downloaded as CSV or XLSX, not “%(format)s”.") % {"format": fmt})
    header = [
        _("University"),
        _("Full name"),
        _("CNIC"),
        _("E-mail"),
        _("Role"),
        _("Course"),
        _("Type"),
        _("Completion date"),
        _("Grade"),
        _("Certificate URL"),
    ]
    cells = (
        [
            row.university_code,
            row.full_name,
            row.cnic,
            row.email,
            row.role,
            row.course,
            row.course_type,
            row.completed_on,
            row.grade,
            row.certificate_url,
        ]
        for row in credit_rows(phase=phase, university=university)
    )
    writer = write_csv if fmt == "csv" else write_xlsx
    scope = university.code if university is not None else "all"
    filename = f"dlsei-{phase.slug}-completions-{scope}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    return filename, CONTENT_TYPES[fmt], writer(cells, header)
