"""HEC staff's page of unclaimed seats: learners invited who did not join the Coursera program in
time, and the bulk reclaim that gives their seats to the waiting lists (registrations.reclaim).

A plain form: tick learners (or "every learner listed"), confirm, reclaim. Works without
JavaScript; nothing is reclaimed without this staff action.
"""

from functools import partial

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from audit.models import AuditEntry
from core.roles import hec_staff_view
from quotas.models import Phase, University

from .cnic import cnic_mask
from .models import JoinReminder, Nomination, NominationStatus
from .reclaim import join_by, not_joined_yet_count, seats_reclaim, unclaimed_learners
from .tasks import seats_reclaim_task

LISTED = 500  # rows on the page; "every unclaimed learner" reclaims them all
IN_REQUEST = 50  # more seats than this are reclaimed by a task, so the page answers at once


class ReclaimForm(forms.Form):
    nominations = forms.ModelMultipleChoiceField(
        queryset=Nomination.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    everything = forms.BooleanField(required=False, label=gettext_lazy("Every unclaimed learner"))
    reason = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Reason (optional)"),
        help_text=gettext_lazy(
            "Kept with each nomination and sent to the learner. Left empty, it says they did not join by their "
            "last day."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have imported Coursera's latest membership report: these learners have not joined the program."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm before reclaiming seats.")},
    )

    def __init__(self, *args, unclaimed, **kwargs):
        super().__init__(*args, **kwargs)
        self.unclaimed = unclaimed
        self.fields["nominations"].queryset = unclaimed

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("everything") and not cleaned.get("nominations"):
            raise forms.ValidationError(_("Tick the learners whose seats to reclaim, or “Every unclaimed learner”."))
        return cleaned

    def chosen(self) -> list[int]:
        if self.cleaned_data.get("everything"):
            return list(self.unclaimed.values_list("pk", flat=True))
        return [nomination.pk for nomination in self.cleaned_data["nominations"]]


def _enqueue_reclaim(ids: list[int], user_id: int, reason: str) -> None:
    seats_reclaim_task.delay(ids, user_id, reason)


def _rows(unclaimed, *, phase: Phase) -> list[dict]:
    learners = list(unclaimed[:LISTED])
    reminders: dict[int, list[str]] = {}
    labels = dict(JoinReminder.Kind.choices)
    for nomination_id, kind in JoinReminder.objects.filter(
        nomination__in=[n.pk for n in learners], emailed_at__isnull=False
    ).values_list("nomination_id", "kind"):
        reminders.setdefault(nomination_id, []).append(str(labels[kind]))
    waiting = dict(
        Nomination.objects.filter(phase=phase, status=NominationStatus.WAITING)
        .order_by()
        .values("quota_id")
        .annotate(n=Count("id"))
        .values_list("quota_id", "n")
    )
    return [
        {
            "nomination": nomination,
            "cnic_masked": cnic_mask(nomination.cnic),
            "invited_on": timezone.localdate(nomination.invited_at),
            "join_by": join_by(invited_on=timezone.localdate(nomination.invited_at), phase=phase),
            "reminders": reminders.get(nomination.pk, []),
            "waiting": waiting.get(nomination.quota_id, 0),
        }
        for nomination in learners
    ]


@never_cache
@hec_staff_view
@require_http_methods(["GET", "POST"])
def staff_unclaimed(request: HttpRequest, phase_slug: str) -> HttpResponse:
    phase = get_object_or_404(Phase, slug=phase_slug)
    code = (request.POST.get("university") or request.GET.get("university") or "").strip()[:20]
    university = University.objects.filter(code__iexact=code).first() if code else None
    unclaimed = unclaimed_learners(phase=phase, university=university)
    form = ReclaimForm(request.POST if request.method == "POST" else None, unclaimed=unclaimed)
    here = reverse("registrations:staff_unclaimed", args=[phase.slug])
    if university is not None:
        here += "?" + urlencode({"university": university.code})
    if request.method == "POST" and form.is_valid():
        chosen = form.chosen()
        if len(chosen) > IN_REQUEST:
            transaction.on_commit(
                partial(_enqueue_reclaim, chosen, request.user.pk, form.cleaned_data["reason"]), robust=True
            )
            messages.info(
                request,
                _(
                    "%(count)s seats are being reclaimed in the background, each given to the next nominee waiting. "
                    "Reload this page to see them leave the list."
                )
                % {"count": len(chosen)},
            )
            return redirect(here)
        result = seats_reclaim(nominations=chosen, actor=request.user, reason=form.cleaned_data["reason"])
        if result.reclaimed:
            messages.success(
                request,
                ngettext(
                    "%(count)d seat reclaimed; %(promoted)d went to the next nominee on a waiting list, the others "
                    "are free again. The learner was told by e-mail, and any deposit is listed for return on the "
                    "ledgers page.",
                    "%(count)d seats reclaimed; %(promoted)d went to the next nominees on the waiting lists, the "
                    "others are free again. The learners were told by e-mail, and any deposit is listed for return "
                    "on the ledgers page.",
                    len(result.reclaimed),
                )
                % {"count": len(result.reclaimed), "promoted": len(result.promoted)},
            )
        for refusal in result.refused:
            messages.error(request, refusal)
        return redirect(here)
    memberships_at = AuditEntry.objects.filter(
        action="memberships.import", target_type="quotas.phase", target_id=str(phase.pk)
    ).aggregate(at=Max("at"))["at"]
    return render(
        request,
        "registrations/staff_unclaimed.html",
        {
            "phase": phase,
            "university": university,
            "universities": University.objects.filter(nominations__phase=phase).distinct().order_by("code"),
            "rows": _rows(unclaimed, phase=phase),
            "unclaimed_count": unclaimed.count(),
            "not_joined_yet": not_joined_yet_count(phase=phase),
            "memberships_at": memberships_at,
            "form": form,
            "checked": set(request.POST.getlist("nominations")),
        },
        status=400 if form.errors else 200,
    )
