"""Refund or forfeit: what happens to a public learner's Rs 4,000 deposit.

The rule (one function, :func:`refund_rule`): a learner who completed at least the phase's
``courses_for_refund`` distinct courses inside the license year (a calendar year from activation,
quotas.license_year) gets the deposit back; once the year has ended without that, the deposit is
forfeited to HEC; before then the case is pending. A course counts once however many rows the
reports had; a completion after the year (or after the day the rule is applied for) does not
count; only rows of the type Course count (guided projects too when the phase says so; never
specializations, professional certificates or types the portal does not know).

A refund case is a nomination of the public or NAHE pool, student or faculty, with a current
deposit. Disability waivers, private universities and alumni have no deposit and are no case.

Only final decisions (refund, forfeit) are stored, as :class:`~fees.models.RefundDecision` rows
that are never changed: a correction is a new row superseding the old. Pending is not stored; it
is what a case without a recorded decision is. :func:`refunds_decide` works set-based (one
aggregate query, one bulk insert) so a whole phase of 24,000 learners is decided in a moment.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from quotas.license_year import latest_activation_ended_by
from quotas.models import DEPOSIT_POOLS, Phase
from registrations.cnic import cnic_mask
from registrations.models import Nomination, Role

from .deposit_returns import deposit_is_returned
from .exceptions import FeeError
from .models import CourseCompletion, Deposit, RefundDecision, RefundOutcome

PENDING = "pending"
REFUND = RefundOutcome.REFUND.value
FORFEIT = RefundOutcome.FORFEIT.value
REFUND_POOLS = sorted(DEPOSIT_POOLS)  # a refund case is a deposit paid
REFUND_ROLES = [Role.STUDENT, Role.FACULTY]
BATCH_SIZE = 5_000

# What Coursera's report calls each kind of row ("Course Type"), lower case. Only courses count
# toward the refund (guided projects too when the phase says so). A specialization or a
# professional certificate is a programme of several courses whose courses have rows of their
# own: counting it as well would count those courses twice. A type the portal does not know is
# kept but not counted, and the import's report lists it for HEC to look at.
COURSE = "course"
GUIDED_PROJECT = "guided project"
SPECIALIZATION = "specialization"
PROFESSIONAL_CERTIFICATE = "professional certificate"
KNOWN_TYPES = frozenset({COURSE, GUIDED_PROJECT, SPECIALIZATION, PROFESSIONAL_CERTIFICATE})


def course_type_normal(value: str) -> str:
    """A "Course Type" cell as the portal compares it: spaces collapsed, lower case."""
    return " ".join((value or "").split()).casefold()


def counted_types(*, phase: Phase) -> list[str]:
    """The kinds of completion that count toward the refund in ``phase``."""
    return [COURSE, GUIDED_PROJECT] if phase.guided_projects_count else [COURSE]


def refund_rule(*, phase: Phase, as_of: dt.date) -> Case:
    """THE refund rule, for a queryset of refund cases annotated with ``courses`` (see counted_courses).

    "refund" once ``courses`` reaches the phase's ``courses_for_refund``; otherwise "forfeit"
    from the first day after the license year (a calendar year: the year has ended on ``as_of``
    for every activation on or before the same date ``license_years`` earlier); otherwise, and
    before activation, "pending".
    One SQL expression, so a whole phase is decided in the database at once.
    """
    return Case(
        When(activated_on__isnull=True, then=Value(PENDING)),
        When(courses__gte=phase.courses_for_refund, then=Value(REFUND)),
        When(activated_on__lte=latest_activation_ended_by(day=as_of, years=phase.license_years), then=Value(FORFEIT)),
        default=Value(PENDING),
        output_field=CharField(),
    )


class YearsBefore(Func):
    """A date column ``years`` calendar years earlier, in the database (no Python per row): the
    same date, or 28 February for a 29 February, as ``latest_activation_ended_by`` says in Python.
    A completion on day c is inside the license year of an activation a exactly when
    a > YearsBefore(c)."""

    output_field = DateField()

    def __init__(self, expression, *, years: int):
        super().__init__(expression)
        self.years = int(years)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        # PostgreSQL's interval arithmetic already clamps 29 February to the 28th.
        return f"CAST(({sql} - make_interval(years => {self.years})) AS date)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        # SQLite rolls 29 February of a year without one over to 1 March: step back a day then.
        earlier = f"date({sql}, '-{self.years} years')"
        return (
            f"CASE WHEN strftime('%%d', {earlier}) <> strftime('%%d', {sql}) "
            f"THEN date({earlier}, '-1 day') ELSE {earlier} END",
            params * 3,
        )


def counted_courses(*, phase: Phase, as_of: dt.date) -> Coalesce:
    """For a Nomination queryset: how many distinct courses count towards its refund on ``as_of``.

    A correlated subquery (one per learner, on the (learner, course) index) rather than a join
    with GROUP BY, so it composes with the other annotations of a list.
    """
    activated_on = OuterRef("activated_on")
    completions = CourseCompletion.objects.annotate(
        year_start_limit=YearsBefore(F("completed_on"), years=phase.license_years)
    ).filter(
        nomination=OuterRef("pk"),
        completed_on__gte=activated_on,
        year_start_limit__lt=activated_on,
        completed_on__lte=as_of,
    )
    kinds = Q()
    for kind in counted_types(phase=phase):
        kinds |= Q(course_type__iexact=kind)
    completions = completions.filter(kinds)
    count = completions.order_by().values("nomination").annotate(n=Count("course_key", distinct=True)).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def nominations_with_courses(*, phase: Phase, as_of: dt.date, queryset: QuerySet | None = None) -> QuerySet:
    """Nominations annotated with ``courses`` (distinct counted courses on ``as_of``) and ``rule``.

    ``rule`` is what :func:`refund_rule` says for them; it means something only for refund cases.
    """
    queryset = Nomination.objects.filter(phase=phase) if queryset is None else queryset
    return queryset.annotate(courses=counted_courses(phase=phase, as_of=as_of)).annotate(
        rule=refund_rule(phase=phase, as_of=as_of)
    )


def current_deposits() -> QuerySet:
    """Deposits that nothing supersedes: the one that stands for each nomination."""
    return Deposit.objects.filter(superseded_by__isnull=True)


def current_decisions() -> QuerySet:
    """Refund decisions that no correction supersedes."""
    return RefundDecision.objects.filter(superseded_by__isnull=True)


def refund_cases(*, phase: Phase) -> QuerySet:
    """The phase's nominations whose deposit is refunded or forfeited, each with ``deposit_amount``.

    A deposit to return (a reclaimed seat, fees.deposit_returns) is no refund case."""
    deposit = current_deposits().filter(nomination=OuterRef("pk"))
    return (
        Nomination.objects.filter(phase=phase, pool__in=REFUND_POOLS, role__in=REFUND_ROLES)
        .filter(Exists(deposit))
        .exclude(deposit_is_returned())
        .annotate(deposit_amount=Subquery(deposit.values("amount")[:1]))
    )


def refund_status(*, nomination: Nomination, as_of: dt.date) -> tuple[str | None, int]:
    """(decision by the rule, courses counted) for one learner on ``as_of``.

    The decision is "refund", "forfeit" or "pending" for a refund case, None for anyone with no
    deposit to refund (disability waiver, private university, alumni). The rule only: a recorded
    decision, or a correction of one, is read with :func:`refund_decision_current`.
    """
    phase = nomination.phase
    deposit = current_deposits().filter(nomination=OuterRef("pk"))
    found = (
        nominations_with_courses(phase=phase, as_of=as_of, queryset=Nomination.objects.filter(pk=nomination.pk))
        .annotate(has_deposit=Exists(deposit), returned=deposit_is_returned())
        .values_list("courses", "rule", "has_deposit", "pool", "role", "returned")
        .first()
    )
    if found is None:
        return None, 0
    courses, rule, has_deposit, pool, role, returned = found
    is_case = has_deposit and pool in REFUND_POOLS and role in REFUND_ROLES and not returned
    return (rule if is_case else None), courses


def refund_decision_current(*, nomination: Nomination) -> RefundDecision | None:
    return current_decisions().filter(nomination=nomination).first()


def _decisions_insert(cases: QuerySet, *, as_of: dt.date, actor_id: int | None, reason: str) -> None:
    """``INSERT INTO refund decisions SELECT …`` the cases: one statement, however many learners."""
    columns = {
        "nomination_id": F("pk"),
        "decision": F("rule"),
        "courses_completed": F("courses"),
        "amount": F("deposit_amount"),
        "as_of": Value(as_of, output_field=DateField()),
        "decided_by_id": Value(actor_id, output_field=IntegerField()),
        "reason": Value(reason, output_field=CharField()),
        "created_at": Value(timezone.now(), output_field=DateTimeField()),
    }
    aliases = {f"new_{name}": expression for name, expression in columns.items()}
    select, params = cases.annotate(**aliases).values(*aliases).query.sql_with_params()
    ops = connection.ops
    names = ", ".join(ops.quote_name(name) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {ops.quote_name(RefundDecision._meta.db_table)} ({names}) {select}", params)  # noqa: S608


def refunds_decide(*, phase: Phase, as_of: dt.date, actor, nominations: QuerySet | None = None) -> list[RefundDecision]:
    """Record the final decisions due on ``as_of`` for the phase's refund cases that have none yet.

    Cases that are still pending are left alone (nothing is stored for them). A case that already
    has a decision keeps it: a decision is only ever changed by :func:`refund_decision_correct`.
    ``nominations`` narrows the run to some learners (the admin action on selected rows).
    Returns the decisions recorded now.
    """
    with transaction.atomic():
        # One run at a time per phase; the unique "one first decision" constraint backs this up.
        Phase.objects.select_for_update().filter(pk=phase.pk).first()
        cases = refund_cases(phase=phase).filter(~Exists(RefundDecision.objects.filter(nomination=OuterRef("pk"))))
        if nominations is not None:
            cases = cases.filter(pk__in=nominations.values("pk"))
        decided = nominations_with_courses(phase=phase, as_of=as_of, queryset=cases).filter(rule__in=[REFUND, FORFEIT])
        before = RefundDecision.objects.aggregate(last=Max("pk"))["last"] or 0
        _decisions_insert(
            decided,
            as_of=as_of,
            actor_id=actor.pk if getattr(actor, "pk", None) else None,
            reason=_("Decided from the completion reports."),
        )
        created = list(
            RefundDecision.objects.filter(pk__gt=before, nomination__phase=phase, supersedes__isnull=True).order_by(
                "pk"
            )
        )
        refunds = sum(1 for decision in created if decision.decision == REFUND)
        audit_record(
            actor=actor,
            action="refunds.decide",
            target_type=RefundDecision._meta.label_lower,
            summary=(
                f"Refund decisions for {phase.slug} as of {as_of}: {refunds} refund, {len(created) - refunds} forfeit"
            ),
            data={
                "phase": phase.slug,
                "as_of": as_of.isoformat(),
                "refund": refunds,
                "forfeit": len(created) - refunds,
            },  # fmt: skip
        )
    return created


def refund_decision_correct(*, decision: RefundDecision, new_decision: str, reason: str, actor) -> RefundDecision:
    """Correct a final decision: a new row that supersedes it, with who and why; the old row stays as it was."""
    if new_decision not in RefundOutcome.values:
        raise FeeError(_("A decision is either “refund” or “forfeit”."))
    reason = (reason or "").strip()
    if not reason:
        raise FeeError(_("Say why the decision is corrected; the reason is kept with it."))
    if not getattr(actor, "pk", None):
        raise FeeError(_("A correction must be made by a signed-in member of HEC staff."))
    with transaction.atomic():
        old = RefundDecision.objects.select_for_update().filter(pk=decision.pk).first()
        if old is None:
            raise FeeError(_("This decision does not exist."))
        if RefundDecision.objects.filter(supersedes=old).exists():
            raise FeeError(_("This decision has already been corrected; correct the current one instead."))
        if old.decision == new_decision:
            raise FeeError(
                _("The decision is already “%(decision)s”; nothing to correct.")
                % {"decision": old.get_decision_display()}
            )
        new = RefundDecision.objects.create(
            nomination_id=old.nomination_id,
            decision=new_decision,
            courses_completed=old.courses_completed,
            amount=old.amount,
            as_of=timezone.localdate(),
            supersedes=old,
            decided_by=actor,
            reason=reason,
        )
        audit_record(
            actor=actor,
            action="refund_decision.correct",
            target=new,
            summary=f"Refund decision {old.pk} ({old.decision}) corrected to {new_decision}: {reason}",
            data={"supersedes": old.pk, "from": old.decision, "to": new_decision, "reason": reason},
        )
    return new


@dataclass(frozen=True)
class RefundCaseRow:
    """One refund case as lists and the --json output show it."""

    nomination_id: int
    full_name: str
    email: str
    cnic: str
    university: str
    courses_completed: int
    decision: str
    recorded: bool
    amount: int
    decision_id: int | None

    @property
    def cnic_masked(self) -> str:
        return cnic_mask(self.cnic)

    @property
    def refund_due(self) -> bool:
        return self.decision == REFUND

    @property
    def forfeited(self) -> bool:
        return self.decision == FORFEIT

    @property
    def pending(self) -> bool:
        return self.decision == PENDING


_CASE_COLUMNS = [
    "pk", "full_name", "email", "cnic", "university__code", "courses", "deposit_amount", "decision_id",
    "decision_value", "shown_decision",
]  # fmt: skip


def refund_cases_listed(
    *,
    phase: Phase,
    as_of: dt.date,
    university_id: int | None = None,
    decision: str | None = None,
    search: str | None = None,
) -> QuerySet:
    """The refund cases as lists show them, filtered and ordered in the database (so a page of them
    is one LIMIT away): values rows of ``_CASE_COLUMNS``; see :func:`refund_case_row`.

    ``shown_decision`` is the recorded decision when there is one (corrections included), else
    the rule's ("pending" after :func:`refunds_decide` has run).
    """
    current = current_decisions().filter(nomination=OuterRef("pk"))
    cases = refund_cases(phase=phase)
    if university_id is not None:
        cases = cases.filter(university_id=university_id)
    if search:
        cases = cases.filter(Q(email__icontains=search) | Q(full_name__icontains=search))
    listed = nominations_with_courses(phase=phase, as_of=as_of, queryset=cases).annotate(
        decision_id=Subquery(current.values("pk")[:1]),
        decision_value=Subquery(current.values("decision")[:1]),
    )
    listed = listed.annotate(shown_decision=Coalesce(F("decision_value"), F("rule"), output_field=CharField()))
    if decision:
        listed = listed.filter(shown_decision=decision)
    return listed.values_list(*_CASE_COLUMNS).order_by("university__code", "full_name", "pk")


def refund_case_row(values: tuple) -> RefundCaseRow:
    pk, name, email, cnic, code, courses, amount, decision_id, recorded, shown = values
    return RefundCaseRow(
        nomination_id=pk,
        full_name=name,
        email=email,
        cnic=cnic,
        university=code or "",
        courses_completed=courses,
        decision=shown,
        recorded=recorded is not None,
        amount=amount,
        decision_id=decision_id,
    )


def refund_case_rows(
    *, phase: Phase, as_of: dt.date, university_id: int | None = None, decision: str | None = None
) -> list[RefundCaseRow]:
    """Every refund case of the phase (optionally of one university, or one decision), in one query."""
    listed = refund_cases_listed(phase=phase, as_of=as_of, university_id=university_id, decision=decision)
    return [refund_case_row(values) for values in listed]
