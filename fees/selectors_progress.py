"""The learner's own progress towards the refund: courses, days left, what happens to the deposit."""

import datetime as dt

from quotas.license_year import license_year_end
from registrations.models import Nomination

from .deposit_returns import RETURN_STATUSES, deposits_to_return
from .models import CourseCompletion
from .refunds import (
    FORFEIT,
    GUIDED_PROJECT,
    KNOWN_TYPES,
    PENDING,
    PROFESSIONAL_CERTIFICATE,
    REFUND,
    SPECIALIZATION,
    counted_types,
    course_type_normal,
    current_deposits,
    refund_decision_current,
    refund_status,
)

# What the learner reads about the deposit besides the refund rule's REFUND, FORFEIT and PENDING;
# the template words each one.
NO_DEPOSIT, RETURNED = "none", "return"


def learner_progress(*, nomination: Nomination, today: dt.date) -> dict:
    """What the learner's page shows: courses counted out of the phase's number, the license year,
    days left in it, the deposit's status (REFUND, FORFEIT, PENDING, RETURNED or NO_DEPOSIT, with
    a flag for each) and the courses.

    A recorded decision (or HEC's correction of it) is what the learner sees once there is one;
    before that, what the rule says today.
    """
    phase = nomination.phase
    rule, courses = refund_status(nomination=nomination, as_of=today)
    end = license_year_end(activated_on=nomination.activated_on, years=phase.license_years)
    recorded = refund_decision_current(nomination=nomination) if rule is not None else None
    deposit = current_deposits().filter(nomination=nomination).first() if rule is not None else None
    status = NO_DEPOSIT if rule is None else (recorded.decision if recorded else rule)
    if rule is None and nomination.status in RETURN_STATUSES:
        deposit = deposits_to_return(phase=phase).filter(nomination=nomination).first()
        status = RETURNED if deposit is not None else NO_DEPOSIT
    completions = []
    counting = counted_types(phase=phase)
    for completion in CourseCompletion.objects.filter(nomination=nomination).order_by("completed_at", "id"):
        kind = course_type_normal(completion.course_type)
        in_year = end is not None and nomination.activated_on <= completion.completed_on < end
        completions.append(
            {
                "name": completion.course_name,
                "completed_on": completion.completed_on,
                # From Coursera's file: linked only when it is a plain https address.
                "certificate_url": completion.certificate_url
                if completion.certificate_url.startswith("https://")
                else "",
                "type": completion.course_type,
                # Why a row does not count, for the template to word: its kind, or the dates.
                "is_guided_project": kind == GUIDED_PROJECT,
                "is_programme": kind in (SPECIALIZATION, PROFESSIONAL_CERTIFICATE),
                "is_unknown_type": kind not in KNOWN_TYPES,
                "counts": in_year and completion.completed_on <= today and kind in counting,
            }
        )
    return {
        "courses_completed": courses,
        "courses_needed": phase.courses_for_refund,
        "courses_percent": min(100, round(100 * courses / phase.courses_for_refund))
        if phase.courses_for_refund
        else 100,
        "activated_on": nomination.activated_on,
        "last_day": end - dt.timedelta(days=1) if end else None,
        "days_left": max((end - today).days, 0) if end else None,
        "deposit_status": status,
        "refund_due": status == REFUND,
        "forfeited": status == FORFEIT,
        "pending": status == PENDING,
        "to_return": status == RETURNED,
        "no_deposit": status == NO_DEPOSIT,
        "deposit_amount": deposit.amount if deposit else None,
        "decision": recorded,
        "completions": completions,
    }
