"""HEC staff's dashboard: one phase at a glance, as server-rendered SVG charts with their numbers.

It shows every app's data (seats from quotas, nominations and invitations from registrations,
refunds and forfeits from fees), so it lives in the portal app, the layer above them all. Each
app reads its own rows in its own selectors; this module only arranges them into charts. The
page runs the same handful of queries however many rows the phase has.
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.charts import Bar, Column, Series, bar_chart_svg, column_chart_svg, count_text, isolate, share_bars_svg
from core.roles import hec_staff_view
from fees.ledgers import LedgerTotals, ledger_totals
from quotas.models import Phase
from quotas.selectors import Utilisation, UtilisationRow, phase_current, phases_all, utilisation_rows
from registrations.models import Invitation
from registrations.selectors import invitations_by_state, nominations_per_day, waiting_counts

TOP_UNIVERSITIES = 12
# Beyond about three months a column per day gets too thin to read: the chart counts weeks instead.
MAX_DAILY_COLUMNS = 92

SEATED, FREE, WAITING = "#0b5d3b", "#b6c2cc", "#bf8700"
NOMINATIONS = "#0550ae"
INVITATION_COLOURS = {
    Invitation.State.SENT: "#0b5d3b",
    Invitation.State.QUEUED: "#0969da",
    Invitation.State.SENDING: "#8250df",
    Invitation.State.RETRYING: "#bf8700",
    Invitation.State.FAILED: "#a40e26",
}
REFUND, FORFEIT, PENDING = "#0b5d3b", "#a40e26", "#b6c2cc"


class PhasePickForm(forms.Form):
    phase = forms.SlugField(required=False, max_length=50)


# Pieces of the page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Nominations counted per day, or per week (starting Monday) when the phase ran long."""

    start: datetime.date
    count: int
    weekly: bool

    @property
    def label(self) -> str:
        day = date_format(self.start, "DATE_FORMAT")
        return _("Week of %(day)s") % {"day": day} if self.weekly else day

    @property
    def short_label(self) -> str:
        return date_format(self.start, "MONTH_DAY_FORMAT")


def periods_from(per_day: dict[datetime.date, int]) -> list[Period]:
    """Every day from the first nomination to the last (quiet days as 0, so gaps show), or every
    week when that span is longer than MAX_DAILY_COLUMNS days."""
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    if (last - first).days < MAX_DAILY_COLUMNS:
        days = (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
        return [Period(day, per_day.get(day, 0), weekly=False) for day in days]
    monday = first - datetime.timedelta(days=first.weekday())
    weeks: dict[datetime.date, int] = {}
    while monday <= last:
        weeks[monday] = 0
        monday += datetime.timedelta(days=7)
    for day, count in per_day.items():
        weeks[day - datetime.timedelta(days=day.weekday())] += count
    return [Period(start, count, weekly=True) for start, count in weeks.items()]


def _seat_series() -> list[Series]:
    return [
        Series("seated", _("Seated"), SEATED),
        Series("free", _("Free"), FREE),
        Series("waiting", _("Waiting"), WAITING),
    ]


def _seat_bar(row: UtilisationRow, label: str) -> Bar:
    return Bar(
        label=label,
        values={"seated": row.seated, "free": max(row.free, 0), "waiting": row.waiting},
        note=isolate(
            _("%(seated)s of %(licenses)s") % {"seated": count_text(row.seated), "licenses": count_text(row.licenses)}
        ),
    )


def top_universities(utilisation: Utilisation, *, limit: int = TOP_UNIVERSITIES) -> list[UtilisationRow]:
    """The quotas with the most licenses (the alumni pool counts as one), largest first."""
    return sorted(utilisation.rows, key=lambda row: (-row.licenses, row.code))[:limit]


def _seat_charts(phase: Phase, utilisation: Utilisation, universities: list[UtilisationRow]) -> dict:
    description = _(
        "Stacked bars: seats taken, seats still free and nominations waiting, on one scale. "
        "The same numbers are in the table below."
    )
    return {
        "pools": bar_chart_svg(
            chart_id="dash-pools",
            title=_("Seats taken per pool in %(phase)s") % {"phase": phase.name},
            description=description,
            series=_seat_series(),
            bars=[_seat_bar(row, row.pool_label) for row in utilisation.pools],
        ),
        "universities": bar_chart_svg(
            chart_id="dash-universities",
            title=_("Seats taken per university in %(phase)s") % {"phase": phase.name},
            description=description,
            series=_seat_series(),
            bars=[_seat_bar(row, row.code) for row in universities],
        ),
    }


def _nominations_chart(phase: Phase, periods: list[Period]):
    weekly = bool(periods) and periods[0].weekly
    title = (
        _("Nominations submitted per week in %(phase)s") if weekly else _("Nominations submitted per day in %(phase)s")
    )
    return column_chart_svg(
        chart_id="dash-nominations",
        title=title % {"phase": phase.name},
        description=_(
            "One column per period, from the first nomination to the last. The same numbers are in the table below."
        ),
        columns=[Column(isolate(p.short_label), p.count, f"{p.label}: {count_text(p.count)}") for p in periods],
        colour=NOMINATIONS,
    )


def _invitation_rows(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(state, label, count) in the order an invitation moves: sent first, failed last."""
    labels = dict(Invitation.State.choices)
    return [(state, str(labels[state]), counts.get(state, 0)) for state in INVITATION_COLOURS]


def _invitations_chart(phase: Phase, rows: list[tuple[str, str, int]]):
    total = sum(count for _state, _label, count in rows)
    return share_bars_svg(
        chart_id="dash-invitations",
        title=_("Coursera invitations by state in %(phase)s") % {"phase": phase.name},
        description=", ".join(f"{label}: {count_text(count)}" for _state, label, count in rows),
        series=[Series(state, label, INVITATION_COLOURS[state]) for state, label, _count in rows],
        bars=[
            Bar(label=_("Invitations"), values={state: count for state, _label, count in rows}, note=count_text(total))
        ],
    )


def _money_chart(phase: Phase, totals: LedgerTotals):
    series = [
        Series("refund", _("Refunds due"), REFUND),
        Series("forfeit", _("Forfeited to HEC"), FORFEIT),
        Series("pending", _("Pending"), PENDING),
    ]
    learners = {"refund": totals.refund_count, "forfeit": totals.forfeit_count, "pending": totals.pending_count}
    rupees = {"refund": totals.refund_amount, "forfeit": totals.forfeit_amount, "pending": totals.pending_amount}
    return share_bars_svg(
        chart_id="dash-refunds",
        title=_("Deposits refunded and forfeited in %(phase)s") % {"phase": phase.name},
        description=_(
            "Two bars, each its own whole: the learners whose deposit is refunded, forfeited or still pending, "
            "and the same in rupees. The same numbers are in the table below."
        ),
        series=series,
        bars=[
            Bar(label=_("Learners"), values=learners, note=count_text(sum(learners.values()))),
            Bar(label=_("Amount (Rs.)"), values=rupees, note=count_text(totals.decided_amount)),
        ],
    )


# The page -------------------------------------------------------------------------------------------


def _phase_from(request: HttpRequest) -> tuple[Phase | None, str]:
    """(the phase asked for, or the current one; the slug asked for when no phase has it)."""
    form = PhasePickForm(request.GET)
    if not form.is_valid():
        return None, request.GET.get("phase", "")[:60]
    slug = form.cleaned_data["phase"]
    if not slug:
        return phase_current(), ""
    phase = Phase.objects.filter(slug=slug).first()
    return phase, "" if phase else slug


@never_cache
@hec_staff_view
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    phase, unknown = _phase_from(request)
    context: dict = {"phase": phase, "unknown_phase": unknown, "phases": list(phases_all())}
    if phase is not None:
        utilisation = utilisation_rows(phase=phase, waiting_by_quota=waiting_counts(phase=phase))
        universities = top_universities(utilisation)
        periods = periods_from(nominations_per_day(phase=phase))
        invitations = _invitation_rows(invitations_by_state(phase=phase))
        money = ledger_totals(phase=phase)
        charts = _seat_charts(phase, utilisation, universities) if utilisation.rows else {}
        if periods:
            charts["nominations"] = _nominations_chart(phase, periods)
        if any(count for _state, _label, count in invitations):
            charts["invitations"] = _invitations_chart(phase, invitations)
        if money.deposit_count or money.refund_count or money.forfeit_count or money.pending_count:
            charts["refunds"] = _money_chart(phase, money)
        context.update(
            utilisation=utilisation,
            universities=universities,
            universities_hidden=len(utilisation.rows) - len(universities),
            periods=periods,
            weekly=bool(periods) and periods[0].weekly,
            nominations_total=sum(p.count for p in periods),
            invitations=invitations,
            invitations_total=sum(count for _state, _label, count in invitations),
            money=money,
            charts=charts,
        )
    return render(request, "dashboard.html", context, status=404 if unknown else 200)
