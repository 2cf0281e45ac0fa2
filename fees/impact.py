"""What the licenses achieved: the impact report of a phase, for HEC staff and each focal person.

Counted from what the portal has imported (Coursera's usage report or the API sync, and the
membership report) and from its own invitations; nothing is estimated:

- **invited**: the invitation went out (the outbox row is SENT), or Coursera shows the learner
  in the program (below), whichever way they were invited;
- **joined**: the membership report (or the API) gave a join date, or a completion was imported
  for the learner (nobody completes a course outside the program);
- **courses completed**: completions of the type *Course* only (guided projects, specializations,
  professional certificates and unknown types are not courses), each course once per learner,
  as `CourseCompletion` already keeps them; whenever it was completed;
- **completed one / three**: learners with at least 1, and at least the phase's
  ``courses_for_refund`` (3 by default), such courses;
- **learning hours**: the report's estimated hours of every completed item except
  specializations and professional certificates, whose hours are those of their courses;
- **specializations** and **professional certificates**: completions of those types.

Every learner of the phase counts, whatever their status now: a learner withdrawn or removed
from the program on Coursera keeps what they achieved. A focal person's report is the same
computation limited to their university. The whole report is a fixed handful of queries.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from audit.models import AuditEntry
from quotas.models import Phase, Pool, University
from quotas.selectors import POOL_ORDER
from registrations.models import Invitation, Nomination

from .models import CompletionImport, CourseCompletion

COURSE = "course"
SPECIALIZATION = "specialization"
PROFESSIONAL_CERTIFICATE = "professional certificate"
BUNDLES = (SPECIALIZATION, PROFESSIONAL_CERTIFICATE)  # their hours are their courses' hours
TOP_COURSES = 10
HOURS = DecimalField(max_digits=12, decimal_places=2)


def _type_is(kind: str) -> Q:
    return Q(course_type__iexact=kind)


def _not_bundle() -> Q:
    return ~_type_is(SPECIALIZATION) & ~_type_is(PROFESSIONAL_CERTIFICATE)


def hours_round(value: Decimal | int | None) -> float:
    """Learning hours as reported everywhere (JSON, pages, PDF): one decimal, halves up."""
    return float(Decimal(value or 0).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class GroupImpact:
    """The learners of one university (or one pool)."""

    key: str  # the university's code, or the pool
    name: str
    invited: int
    joined: int
    completed_three: int
    courses_completed: int
    learning_hours: float

    @property
    def joined_only(self) -> int:
        """Joined, with fewer courses than the refund needs."""
        return max(self.joined - self.completed_three, 0)

    @property
    def not_joined(self) -> int:
        return max(self.invited - self.joined, 0)


@dataclass(frozen=True)
class CourseCount:
    course: str
    completions: int


@dataclass(frozen=True)
class MonthCount:
    month: dt.date  # its first day
    completions: int


@dataclass(frozen=True)
class DataAsOf:
    """When the figures were last fed: the latest completion import, the latest membership report."""

    completions_at: dt.datetime | None
    completions_file: str
    memberships_at: dt.datetime | None


@dataclass(frozen=True)
class ImpactReport:
    phase: Phase
    university: University | None
    courses_needed: int
    learners_invited: int
    learners_joined: int
    learners_completed_one: int
    learners_completed_three: int
    courses_completed: int
    learning_hours: float
    specializations_completed: int
    professional_certificates_completed: int
    universities: list[GroupImpact] = field(default_factory=list)
    pools: list[GroupImpact] = field(default_factory=list)
    top_courses: list[CourseCount] = field(default_factory=list)
    months: list[MonthCount] = field(default_factory=list)
    data_as_of: DataAsOf | None = None

    @property
    def has_completions(self) -> bool:
        certificates = self.specializations_completed + self.professional_certificates_completed
        return bool(self.courses_completed or certificates)

    def universities_by_courses(self) -> list[GroupImpact]:
        """Universities with the most courses completed first (then the most learners invited)."""
        return sorted(self.universities, key=lambda row: (-row.courses_completed, -row.invited, row.key))

    def as_json(self) -> dict:
        """The report as `manage.py impact_report --json` prints it."""
        return {
            "phase": self.phase.slug,
            "learners_invited": self.learners_invited,
            "learners_joined": self.learners_joined,
            "learners_completed_one": self.learners_completed_one,
            "learners_completed_three": self.learners_completed_three,
            "courses_completed": self.courses_completed,
            "learning_hours": self.learning_hours,
            "specializations_completed": self.specializations_completed,
            "professional_certificates_completed": self.professional_certificates_completed,
            "universities": [
                {
                    "code": row.key,
                    "name": row.name,
                    "invited": row.invited,
                    "joined": row.joined,
                    "completed_three": row.completed_three,
                    "courses_completed": row.courses_completed,
                    "learning_hours": row.learning_hours,
                }
                for row in self.universities
            ],
            "top_courses": [{"course": row.course, "completions": row.completions} for row in self.top_courses],
        }


def _learners(*, phase: Phase, university: University | None) -> QuerySet[Nomination]:
    learners = Nomination.objects.filter(phase=phase)
    return learners if university is None else learners.filter(university=university)


def _completions(*, phase: Phase, university: University | None) -> QuerySet[CourseCompletion]:
    completions = CourseCompletion.objects.filter(nomination__phase=phase)
    return completions if university is None else completions.filter(nomination__university=university)


def _annotated(learners: QuerySet[Nomination]) -> QuerySet[Nomination]:
    """Each learner with ``courses`` (Course-type completions), ``hours`` and whether they joined
    and were invited: correlated subqueries, so that the groupings below stay one query each."""
    own = CourseCompletion.objects.filter(nomination=OuterRef("pk")).order_by().values("nomination")
    courses = own.filter(_type_is(COURSE)).annotate(n=Count("pk")).values("n")
    hours = own.filter(_not_bundle()).annotate(h=Sum("learning_hours")).values("h")
    sent = Invitation.objects.filter(nomination=OuterRef("pk"), state=Invitation.State.SENT)
    joined = Q(joined_on__isnull=False) | Q(Exists(CourseCompletion.objects.filter(nomination=OuterRef("pk"))))
    return learners.annotate(
        courses=Coalesce(Subquery(courses, output_field=IntegerField()), 0),
        hours=Coalesce(Subquery(hours, output_field=HOURS), Value(Decimal(0)), output_field=HOURS),
        did_join=joined,
        was_invited=Q(Exists(sent)) | joined,
    )


def _figures(*, needed: int) -> dict:
    return {
        "invited": Count("pk", filter=Q(was_invited=True)),
        "joined": Count("pk", filter=Q(did_join=True)),
        "completed_one": Count("pk", filter=Q(courses__gte=1)),
        "completed_three": Count("pk", filter=Q(courses__gte=needed)),
        "courses_completed": Coalesce(Sum("courses"), 0),
        "learning_hours": Coalesce(Sum("hours"), Value(Decimal(0)), output_field=HOURS),
    }


def _group(row: dict, *, key: str, name: str) -> GroupImpact:
    return GroupImpact(
        key=key,
        name=name,
        invited=row["invited"],
        joined=row["joined"],
        completed_three=row["completed_three"],
        courses_completed=row["courses_completed"],
        learning_hours=hours_round(row["learning_hours"]),
    )


def data_as_of(*, phase: Phase) -> DataAsOf:
    """The latest completion import of the phase that finished, and the latest membership report."""
    latest = (
        CompletionImport.objects.filter(phase=phase, state=CompletionImport.State.DONE)
        .order_by("-finished_at", "-imported_at", "-id")
        .values_list("finished_at", "imported_at", "filename")
        .first()
    )
    memberships = (
        AuditEntry.objects.filter(action="memberships.import", target_type="quotas.phase", target_id=str(phase.pk))
        .aggregate(at=Max("at"))
        .get("at")
    )
    return DataAsOf(
        completions_at=(latest[0] or latest[1]) if latest else None,
        completions_file=latest[2] if latest else "",
        memberships_at=memberships,
    )


def impact_report_build(*, phase: Phase, university: University | None = None) -> ImpactReport:
    """The impact report of ``phase``, of one university only when ``university`` is given."""
    needed = phase.courses_for_refund
    learners = _annotated(_learners(phase=phase, university=university))
    figures = _figures(needed=needed)
    totals = learners.aggregate(**figures)

    by_university = (
        learners.filter(university__isnull=False)
        .order_by()
        .values("university__code", "university__name")
        .annotate(**figures)
        .order_by("university__code")
    )
    universities = [
        _group(row, key=row["university__code"], name=row["university__name"])
        for row in by_university
        if row["invited"] or row["courses_completed"]
    ]
    pool_labels = dict(Pool.choices)
    by_pool = {row["pool"]: row for row in learners.order_by().values("pool").annotate(**figures)}
    pools = [
        _group(by_pool[pool], key=pool, name=str(pool_labels[pool]))
        for pool in POOL_ORDER
        if pool in by_pool and (by_pool[pool]["invited"] or by_pool[pool]["courses_completed"])
    ]

    completions = _completions(phase=phase, university=university)
    kinds = completions.aggregate(
        specializations=Count("pk", filter=_type_is(SPECIALIZATION)),
        certificates=Count("pk", filter=_type_is(PROFESSIONAL_CERTIFICATE)),
    )
    courses = completions.filter(_type_is(COURSE))
    top = (
        courses.order_by()
        .values("course_key")
        .annotate(completions=Count("pk"), name=Max("course_name"))
        .order_by("-completions", "name", "course_key")[:TOP_COURSES]
    )
    months = (
        courses.annotate(month=TruncMonth("completed_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    return ImpactReport(
        phase=phase,
        university=university,
        courses_needed=needed,
        learners_invited=totals["invited"],
        learners_joined=totals["joined"],
        learners_completed_one=totals["completed_one"],
        learners_completed_three=totals["completed_three"],
        courses_completed=totals["courses_completed"],
        learning_hours=hours_round(totals["learning_hours"]),
        specializations_completed=kinds["specializations"],
        professional_certificates_completed=kinds["certificates"],
        universities=universities,
        pools=pools,
        top_courses=[CourseCount(row["name"], row["completions"]) for row in top],
        months=_every_month([(_first_day(row["month"]), row["n"]) for row in months]),
        data_as_of=data_as_of(phase=phase),
    )


def _first_day(value: dt.date | dt.datetime) -> dt.date:
    day = timezone.localtime(value).date() if isinstance(value, dt.datetime) else value
    return day.replace(day=1)


def _every_month(counted: list[tuple[dt.date, int]]) -> list[MonthCount]:
    """Every month from the first with a completion to the last, quiet months as 0 (gaps show)."""
    if not counted:
        return []
    per_month: dict[dt.date, int] = {}
    for month, n in counted:
        per_month[month] = per_month.get(month, 0) + n
    first, last = min(per_month), max(per_month)
    months, month = [], first
    while month <= last:
        months.append(MonthCount(month, per_month.get(month, 0)))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months
