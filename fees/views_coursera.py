"""HEC staff's page of the Coursera API: whether it is on, the syncs of a phase (what each
imported, or why it stopped and what to do), and a button to sync now. The CSV upload stays the
default way in; this page only says how to turn the API on while it is off."""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from quotas.models import Phase
from quotas.selectors import phase_current, phases_all
from registrations import coursera_api

from .models import CourseraSync
from .tasks import enrollment_reports_sync_task
from .views_staff import staff_view

RECENT_SYNCS = 20


class CourseraSyncForm(forms.Form):
    phase = forms.ModelChoiceField(queryset=Phase.objects.all(), label=gettext_lazy("Phase"), empty_label=None)


def _phase_asked(request: HttpRequest) -> Phase | None:
    slug = request.GET.get("phase", "")
    return Phase.objects.filter(slug=slug[:50]).first() if slug else phase_current()


def _enqueue_sync(phase_id: int, user_id: int) -> None:
    enrollment_reports_sync_task.delay(phase_id, user_id)


@staff_view
@require_GET
def coursera_api_page(request: HttpRequest) -> HttpResponse:
    phase = _phase_asked(request)
    syncs: list[CourseraSync] = []
    if phase is not None:
        recent = CourseraSync.objects.filter(phase=phase).select_related("completion_import", "requested_by")
        syncs = list(recent[:RECENT_SYNCS])
    context = {
        "phase": phase,
        "phases": list(phases_all()),
        "missing": coursera_api.api_missing_settings(),
        "org_id": settings.COURSERA_API_ORG_ID,
        "ready": phase is not None and coursera_api.phase_api_ready(phase),
        "invitations_by_api": phase is not None and coursera_api.invitations_by_api(phase),
        "syncs": syncs,
        "latest": syncs[0] if syncs else None,
    }
    return render(request, "fees/coursera_api.html", context)


@staff_view
@require_POST
def coursera_sync_now(request: HttpRequest) -> HttpResponse:
    form = CourseraSyncForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a phase to sync."))
        return redirect("fees:coursera_api")
    phase = form.cleaned_data["phase"]
    back = f"{reverse('fees:coursera_api')}?{urlencode({'phase': phase.slug})}"
    if not coursera_api.phase_api_ready(phase):
        messages.error(request, _("The Coursera API is not set up for this phase; see below what to set."))
        return redirect(back)
    transaction.on_commit(partial(_enqueue_sync, phase.pk, request.user.pk), robust=True)
    messages.info(
        request,
        _("The sync with Coursera is asked for. It runs in the background; its outcome is listed below once it ends."),
    )
    return redirect(back)
