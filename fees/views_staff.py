"""HEC staff's pages for the end of the license year, and the ledgers focal persons download.

- completion reports: upload a Coursera report, see what became of every row (the outcome page
  lists the rows that matched nobody);
- refund cases: every deposit of a phase with its courses and decision, filtered by university
  and decision, the "decide refunds" button and corrections of a decision;
- ledgers: the totals (refunds + forfeits + pending = deposits) and CSV/XLSX downloads. HEC
  staff see every university; a focal person only their own.

Thin views: a form, one service call, a FeeError turned into a message and a redirect.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.dates import DayField
from core.middleware import allows_body_up_to
from core.roles import hec_staff_view as staff_view
from core.roles import user_is_hec_staff
from core.uploads import human_size
from quotas.models import Phase, University
from quotas.selectors import phase_current
from registrations.cnic import cnic_mask
from registrations.roles import user_is_focal_person

from .completions import completions_upload
from .deposit_returns import returns_listed
from .exceptions import FeeError
from .ledgers import FORMATS, KINDS, ledger_export, ledger_totals, ledger_totals_by_university
from .models import CompletionImport, RefundDecision, RefundOutcome
from .refunds import (
    FORFEIT,
    PENDING,
    REFUND,
    refund_case_row,
    refund_cases_listed,
    refund_decision_correct,
    refunds_decide,
)
from .selectors import invoice_balances

PAGE_SIZE = 100
UNMATCHED_PAGE_SIZE = 200


def _phase_from(request: HttpRequest) -> Phase | None:
    slug = request.GET.get("phase") or request.POST.get("phase_slug")
    if slug:
        return Phase.objects.filter(slug=slug).first()
    return phase_current()


# Forms --------------------------------------------------------------------------------------------


class CompletionImportForm(forms.Form):
    phase = forms.ModelChoiceField(queryset=Phase.objects.all(), label=gettext_lazy("Phase"), empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("Coursera completion report (CSV)"),
        help_text=gettext_lazy(
            "The usage report exported from the Coursera admin, as it comes. Importing a report again, or one "
            "that overlaps an earlier one, records nothing twice."
        ),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        limit = settings.COMPLETIONS_FILE_MAX_BYTES
        if file.size > limit:  # refused before it is read into memory
            raise forms.ValidationError(
                _("This report is %(size)s; the largest accepted is %(limit)s. Export it in parts (by date).")
                % {"size": human_size(file.size, round_up=True), "limit": human_size(limit)}
            )
        return file


class RefundsDecideForm(forms.Form):
    phase = forms.ModelChoiceField(queryset=Phase.objects.all(), label=gettext_lazy("Phase"), empty_label=None)
    as_of = DayField(
        label=gettext_lazy("Apply the rule as on"),
        not_after_today=True,
        help_text=gettext_lazy("Usually today. Learners whose year has not ended and who lack courses stay pending."),
    )


class RefundFilterForm(forms.Form):
    university = forms.ModelChoiceField(
        queryset=University.objects.exclude(sector="private").order_by(Lower("name")),
        required=False,
        label=gettext_lazy("University"),
        empty_label=gettext_lazy("All universities"),
    )
    decision = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Decision"),
        choices=[
            ("", gettext_lazy("All")),
            (REFUND, gettext_lazy("Refund due")),
            (FORFEIT, gettext_lazy("Forfeited")),
            (PENDING, gettext_lazy("Pending")),
        ],
    )
    q = forms.CharField(required=False, label=gettext_lazy("Name or e-mail contains"), max_length=100)


class RefundDecisionCorrectForm(forms.Form):
    new_decision = forms.ChoiceField(
        choices=RefundOutcome.choices, label=gettext_lazy("Correct decision"), widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=gettext_lazy("Kept with the decision and shown to the learner."),
    )


# Completion reports -------------------------------------------------------------------------------


@allows_body_up_to(settings.COMPLETIONS_FILE_MAX_BYTES + 1024 * 1024)
@staff_view
@require_http_methods(["GET", "POST"])
def completions_import_view(request: HttpRequest) -> HttpResponse:
    form = CompletionImportForm(request.POST or None, request.FILES or None, initial={"phase": phase_current()})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = completions_upload(
                phase=form.cleaned_data["phase"], data=upload.read(), filename=upload.name, actor=request.user
            )
        except FeeError as error:
            messages.error(request, error.message)
            return redirect("fees:completions_import")
        result.refresh_from_db()  # without a broker the import has already run, on commit
        if result.state == CompletionImport.State.DONE:
            messages.success(
                request,
                _("%(name)s imported: %(new)d new completions, %(unmatched)d rows matched nobody.")
                % {"name": result.filename, "new": result.new_completions, "unmatched": result.unmatched},
            )
        elif result.in_progress:
            messages.success(
                request,
                _("%(name)s was uploaded: its %(rows)s rows are being imported. This page shows how far it has got.")
                % {"name": result.filename, "rows": intcomma(result.rows)},
            )
        return redirect("fees:completions_import_detail", pk=result.pk)
    recent = CompletionImport.objects.select_related("phase", "imported_by")[:20]
    return render(
        request,
        "fees/completions_import.html",
        {"form": form, "recent": recent},
        status=400 if form.errors else 200,
    )


@staff_view
@require_GET
def completions_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(CompletionImport.objects.select_related("phase", "imported_by"), pk=pk)
    page = Paginator(record.unmatched_rows.order_by("row_number"), UNMATCHED_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Refreshing is how the progress bar moves without JavaScript; "?refresh=off" lets someone
    # reading the page (a screen reader restarts at each reload) stop it.
    refresh = record.in_progress and request.GET.get("refresh") != "off"
    return render(request, "fees/completions_import_detail.html", {"record": record, "page": page, "refresh": refresh})


# Refund cases and decisions -----------------------------------------------------------------------


@staff_view
@require_GET
def refund_cases(request: HttpRequest) -> HttpResponse:
    phase = _phase_from(request)
    if phase is None:
        raise Http404
    today = timezone.localdate()
    filters = RefundFilterForm(request.GET or None)
    university = decision = query = None
    if filters.is_valid():
        university = filters.cleaned_data["university"]
        decision = filters.cleaned_data["decision"] or None
        query = (filters.cleaned_data["q"] or "").strip() or None
    listed = refund_cases_listed(
        phase=phase,
        as_of=today,
        university_id=university.pk if university else None,
        decision=decision,
        search=query,
    )
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [refund_case_row(values) for values in page.object_list]
    params = {key: value for key, value in request.GET.items() if key != "page" and value}
    return render(
        request,
        "fees/ledgers_refund_cases.html",
        {
            "phase": phase,
            "phases": Phase.objects.all(),
            "today": today,
            "filters": filters,
            "page": page,
            "count": page.paginator.count,
            "query_string": urlencode(params),
            "decide_form": RefundsDecideForm(initial={"phase": phase, "as_of": today}),
        },
    )


@staff_view
@require_POST
def refunds_decide_view(request: HttpRequest) -> HttpResponse:
    form = RefundsDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect("fees:refund_cases")
    phase = form.cleaned_data["phase"]
    decided = refunds_decide(phase=phase, as_of=form.cleaned_data["as_of"], actor=request.user)
    refunds = sum(1 for decision in decided if decision.decision == REFUND)
    messages.success(
        request,
        ngettext(
            "%(count)d decision recorded as of %(day)s: %(refunds)d refunds, %(forfeits)d forfeits.",
            "%(count)d decisions recorded as of %(day)s: %(refunds)d refunds, %(forfeits)d forfeits.",
            len(decided),
        )
        % {
            "count": len(decided),
            "day": form.cleaned_data["as_of"].isoformat(),
            "refunds": refunds,
            "forfeits": len(decided) - refunds,
        },
    )
    return redirect(f"{reverse('fees:refund_cases')}?{urlencode({'phase': phase.slug})}")


@staff_view
@require_http_methods(["GET", "POST"])
def refund_decision_correct_view(request: HttpRequest, pk: int) -> HttpResponse:
    decision = get_object_or_404(
        RefundDecision.objects.select_related("nomination", "nomination__university", "nomination__phase"), pk=pk
    )
    form = RefundDecisionCorrectForm(request.POST or None)
    back = f"{reverse('fees:refund_cases')}?{urlencode({'phase': decision.nomination.phase.slug})}"
    if request.method == "POST" and form.is_valid():
        try:
            refund_decision_correct(
                decision=decision,
                new_decision=form.cleaned_data["new_decision"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except FeeError as error:
            messages.error(request, error.message)
            return redirect("fees:refund_decision_correct", pk=decision.pk)
        messages.success(request, _("The decision is corrected; the earlier one is kept in the history."))
        return redirect(back)
    history = list(
        RefundDecision.objects.filter(nomination_id=decision.nomination_id)
        .select_related("decided_by")
        .order_by("created_at", "id")
    )
    return render(
        request,
        "fees/ledgers_refund_correct.html",
        {
            "decision": decision,
            "nomination": decision.nomination,
            "cnic_masked": cnic_mask(decision.nomination.cnic),
            "history": history,
            "is_current": not RefundDecision.objects.filter(supersedes=decision).exists(),
            "form": form,
            "back": back,
        },
        status=400 if form.errors else 200,
    )


# Ledgers ------------------------------------------------------------------------------------------


def _ledger_scope(request: HttpRequest) -> tuple[bool, University | None]:
    """(is staff, the university a focal person is limited to); Http404 for anybody else."""
    if user_is_hec_staff(request.user):
        return True, None
    if user_is_focal_person(request.user):
        return False, request.user.focal_person.university
    raise Http404


@never_cache
@require_GET
def ledgers(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    is_staff, university = _ledger_scope(request)
    phase = _phase_from(request)
    if phase is None:
        raise Http404
    context = {
        "phase": phase,
        "phases": Phase.objects.all() if is_staff else [],
        "is_staff": is_staff,
        "university": university,
        "totals": ledger_totals(phase=phase, university=university),
        "by_university": ledger_totals_by_university(phase=phase) if is_staff else [],
        "invoice_balances": invoice_balances(phase=phase) if is_staff else [],
        "returns": returns_listed(phase=phase, university=university),
        "kinds": [(REFUND, _("Refunds due")), (FORFEIT, _("Forfeited to HEC")), (PENDING, _("Pending"))],
        "formats": FORMATS,
    }
    return render(request, "fees/ledgers.html", context)


@never_cache
@require_GET
def ledger_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    is_staff, university = _ledger_scope(request)
    phase = _phase_from(request)
    if phase is None or kind not in KINDS or fmt not in FORMATS:
        raise Http404
    if is_staff and request.GET.get("university"):
        university = University.objects.filter(code=request.GET["university"]).first()
        if university is None:
            raise Http404
    filename, content_type, content = ledger_export(phase=phase, kind=kind, fmt=fmt, university=university)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
