"""Who may open what: every URL of the portal, for every kind of person, against an explicit table.

The test walks the whole URLconf. Every named URL outside the admin must have a row in ``TABLE``
saying what each role gets; a URL missing from the table fails with its name. The admin is taken
as a group (every URL under ``admin:``): nobody but HEC staff gets past its sign-in page, and HEC
staff cannot delete anything financial or any nomination.

Roles: an anonymous visitor; a learner (a student nominee of university B, signed in); an alumnus
(signed in and registered); the focal person of university A looking at university B's rows
("focal_other"); HEC staff; and the focal person of university B on their own rows ("focal_own").
Every object in the URLs is a real row built through the services, belonging to university B
(or to the alumnus, or to a private university for the invoice).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import World, client_for

ROLES = ("anonymous", "learner", "alumnus", "focal_other", "staff", "focal_own")


# The table ------------------------------------------------------------------------------------------

OK, LOGIN, ADMIN_LOGIN, GONE, FORBIDDEN, NOT_FOUND, BAD, METHOD = (
    "200", "login", "admin-login", "redirect", "403", "404", "400", "405"
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    kwargs: Callable[[World], dict] = lambda w: {}
    expect: dict = field(default_factory=dict)
    method: str = "get"
    data: Callable[[World], dict] = lambda w: {}


def every(code: str, **others: str) -> dict:
    """``code`` for everyone signed in, the sign-in page for the anonymous visitor, unless said."""
    table = dict.fromkeys(ROLES, code)
    table["anonymous"] = LOGIN
    table.update(others)
    return table


def focal_only(**others: str) -> dict:
    return every(NOT_FOUND, **{"focal_other": OK, "focal_own": OK, **others})


def staff_only(denied: str = FORBIDDEN) -> dict:
    return every(denied, staff=OK)


def welcome_kwargs(w: World) -> dict:
    user = w.users["focal_own"]
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}


def _completion_import(w: World):
    if "completion_import" not in w.extra:
        from fees.completions import completions_import

        report = "Email,External Id,Course,Course Type,Completed,Completion Time\nnobody@example.pk,,ML,Course,Yes,\n"
        w.extra["completion_import"] = completions_import(
            phase=w.phase, data=report.encode(), filename="usage.csv", actor=w.users["staff"]
        )
    return w.extra["completion_import"]


def _confirmed_upload(w: World):
    """A confirmed copy of the world's file, one row refused: its refused rows are downloadable."""
    if "confirmed_upload" not in w.extra:
        from django.utils import timezone

        from registrations.imports import nomination_upload_store
        from registrations.models import NominationUpload

        with w.upload.file.open("rb") as stored:
            data = stored.read()
        upload = nomination_upload_store(
            phase=w.phase, university=w.uni_b, data=data, filename="list.csv", actor=w.users["focal_own"]
        )
        NominationUpload.objects.filter(pk=upload.pk).update(
            committed_at=timezone.now(), result={"seated": 0, "waiting": 0, "refused": [{"row": 2, "errors": ["x"]}]}
        )
        w.extra["confirmed_upload"] = upload
    return w.extra["confirmed_upload"]


def _refund_decision(w: World):
    if "refund_decision" not in w.extra:
        from fees.models import RefundDecision

        w.extra["refund_decision"] = RefundDecision.objects.create(
            nomination=w.plain_nomination, decision="forfeit", courses_completed=0, amount=4000,
            as_of=datetime.date(2022, 10, 1),
        )  # fmt: skip
    return w.extra["refund_decision"]


def _scroll_row(w: World):
    if "scroll_row" not in w.extra:
        from fees.models import BankScroll, UnmatchedScrollRow

        scroll = BankScroll.objects.create(filename="scroll.csv")
        w.extra["scroll_row"] = UnmatchedScrollRow.objects.create(
            scroll=scroll, row_number=2, consumer_number="1", amount="8000", reason="no such bill"
        )
    return w.extra["scroll_row"]


def _remittance(w: World):
    if "remittance" not in w.extra:
        from fees.models import Remittance

        w.extra["remittance"] = Remittance.objects.create(
            phase=w.phase, university=w.uni_b, number="DLSEI-REM-2022-00099", consumer_number="100429999999999999",
            amount=4000, decisions=[],
        )  # fmt: skip
    return w.extra["remittance"]


PHASE = lambda w: {"phase_slug": w.phase.slug}  # noqa: E731
VERSION = lambda w: {"phase_slug": w.phase.slug, "version": w.allocation.version}  # noqa: E731
PUBLIC_ALLAUTH = {"anonymous": OK, **dict.fromkeys(ROLES[1:], GONE)}

TABLE: dict[str, list[Case]] = {
    "home": [Case(expect={"anonymous": OK, **dict.fromkeys(ROLES[1:], GONE)})],
    "dashboard": [Case(expect=staff_only())],
    "favicon": [Case(expect=dict.fromkeys(ROLES, GONE))],
    "set_language": [
        Case(method="post", data=lambda w: {"language": "ur", "next": "/"}, expect=dict.fromkeys(ROLES, GONE))
    ],
    # allauth: the public pages send a signed-in person on; the account pages need a sign-in.
    "account_login": [Case(expect=PUBLIC_ALLAUTH)],
    "account_signup": [Case(expect=PUBLIC_ALLAUTH)],
    "account_logout": [Case(expect={"anonymous": GONE, **dict.fromkeys(ROLES[1:], OK)})],
    "account_inactive": [Case(expect=dict.fromkeys(ROLES, OK))],
    # The learner has no password (they sign in by e-mailed code), so there is nothing to re-enter.
    "account_reauthenticate": [Case(expect=every(OK, learner=FORBIDDEN))],
    "account_email": [Case(expect=every(OK))],
    # Addresses are confirmed by a code typed where it was asked for: with none pending, nothing to see.
    "account_email_verification_sent": [Case(expect={"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], GONE)})],
    "account_change_password": [Case(expect=every(OK, learner=GONE))],
    "account_set_password": [Case(expect=every(GONE, learner=OK))],
    "account_reset_password": [Case(expect=dict.fromkeys(ROLES, OK))],
    "account_reset_password_done": [Case(expect=dict.fromkeys(ROLES, OK))],
    "account_reset_password_from_key": [
        Case(kwargs=lambda w: {"uidb36": "zz", "key": "not-a-key"}, expect=dict.fromkeys(ROLES, OK))
    ],
    "account_reset_password_from_key_done": [Case(expect=dict.fromkeys(ROLES, OK))],
    "account_request_login_code": [Case(expect=PUBLIC_ALLAUTH)],
    # Without a code requested first there is nothing to confirm: back to the sign-in (or on).
    "account_confirm_login_code": [Case(expect={"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], GONE)})],
    # HEC staff's allocation pages.
    "quotas:phase_list": [Case(expect=staff_only())],
    "quotas:allocation_list": [Case(kwargs=PHASE, expect=staff_only())],
    "quotas:allocation_run": [Case(kwargs=PHASE, expect=every(FORBIDDEN, staff=GONE))],
    "quotas:allocation_preview": [Case(kwargs=VERSION, expect=staff_only())],
    "fees:staff_allocation_publish": [Case(kwargs=VERSION, expect=staff_only())],
    # The one-time welcome link is its own credential: a valid one opens for whoever holds it.
    "registrations:welcome": [
        Case(kwargs=welcome_kwargs, expect=dict.fromkeys(ROLES, OK)),
        Case(kwargs=lambda w: {"uidb64": "MQ", "token": "bad-token"}, expect=dict.fromkeys(ROLES, NOT_FOUND)),
    ],
    # The focal person's pages: only focal persons; another university's rows are not found.
    "registrations:focal_dashboard": [Case(expect=focal_only())],
    "registrations:focal_disclaimer": [Case(expect=focal_only())],
    "registrations:focal_template": [Case(kwargs=lambda w: {"fmt": "csv"}, expect=focal_only())],
    "registrations:focal_disclaimer_form": [Case(expect=focal_only())],
    "registrations:focal_nominees": [Case(expect=focal_only())],
    "registrations:focal_nominee_add": [Case(expect=focal_only())],
    "registrations:focal_nominee": [
        Case(kwargs=lambda w: {"pk": w.plain_nomination.pk}, expect=focal_only(focal_other=NOT_FOUND))
    ],
    "registrations:focal_nominee_withdraw": [
        Case(kwargs=lambda w: {"pk": w.plain_nomination.pk}, expect=focal_only(focal_other=NOT_FOUND))
    ],
    # The focal person's nominations file (portal: confirming records deposits too).
    "portal:nominations_upload": [Case(expect=focal_only())],
    "portal:nominations_preview": [
        Case(kwargs=lambda w: {"upload_id": w.upload.pk}, expect=focal_only(focal_other=NOT_FOUND))
    ],
    "portal:nominations_refused_rows": [
        Case(
            kwargs=lambda w: {"upload_id": _confirmed_upload(w).pk, "fmt": "csv"},
            expect=focal_only(focal_other=NOT_FOUND),
        )
    ],
    "portal:nominations_confirm": [
        Case(
            kwargs=lambda w: {"upload_id": w.upload.pk},
            method="post",
            expect=every(NOT_FOUND, focal_own=GONE),
        )
    ],
    # Alumni and learners.
    "registrations:alumni_register": [
        # An alumnus sees their own registration there (200); a nominated student is sent to their own
        # page; HEC staff and focal persons are refused and sent home.
        Case(expect=every(OK, learner=GONE, staff=GONE, focal_other=GONE, focal_own=GONE)),
    ],
    "registrations:my_status": [Case(expect=every(OK))],
    # Private files: HEC staff, the university concerned, the person themself; else not found.
    "registrations:file_disclaimer": [
        Case(kwargs=lambda w: {"pk": w.disclaimer_b.pk}, expect=every(NOT_FOUND, staff=OK, focal_own=OK))
    ],
    "registrations:file_nomination_upload": [
        Case(kwargs=lambda w: {"pk": w.upload.pk}, expect=every(NOT_FOUND, staff=OK, focal_own=OK))
    ],
    "registrations:file_nomination": [
        Case(
            kwargs=lambda w: {"pk": w.learner_nomination.pk, "kind": "certificate"},
            expect=every(NOT_FOUND, learner=OK, staff=OK, focal_own=OK),
        ),
        Case(
            kwargs=lambda w: {"pk": w.alumni_nomination.pk, "kind": "transcript"},
            expect=every(NOT_FOUND, alumnus=OK, staff=OK),
        ),
    ],
    # HEC staff's people pages.
    "registrations:staff_utilisation": [Case(kwargs=PHASE, expect=staff_only())],
    "registrations:staff_reserve_release": [
        Case(method="post", kwargs=PHASE, expect=every(FORBIDDEN, anonymous=LOGIN, staff=GONE))
    ],
    "registrations:staff_utilisation_export": [
        Case(kwargs=lambda w: {"phase_slug": w.phase.slug, "fmt": "csv"}, expect=staff_only()),
        Case(kwargs=lambda w: {"phase_slug": w.phase.slug, "fmt": "xlsx"}, expect=staff_only()),
    ],
    "fees:staff_license_moves": [Case(kwargs=PHASE, expect=staff_only())],
    "registrations:staff_unclaimed": [
        Case(kwargs=PHASE, expect=staff_only()),
        Case(kwargs=PHASE, method="post", expect=every(FORBIDDEN, staff=BAD)),  # unconfirmed: nothing changes
    ],
    # Fees.
    "fees:my_license": [Case(expect=every(OK))],
    "fees:challan_download": [Case(expect=every(NOT_FOUND, learner=GONE, alumnus=OK))],
    "fees:payment_submit": [Case(method="post", expect=every(NOT_FOUND, learner=BAD, alumnus=BAD))],
    "fees:deposits": [Case(expect=focal_only())],
    "fees:deposit_record": [
        Case(kwargs=lambda w: {"nomination_id": w.plain_nomination.pk}, expect=focal_only(focal_other=NOT_FOUND))
    ],
    "fees:payment_file": [
        Case(kwargs=lambda w: {"payment_id": w.payment.pk, "kind": "paid_challan"}, expect=every(NOT_FOUND, staff=OK))
    ],
    "fees:waiver_file": [Case(kwargs=lambda w: {"waiver_id": w.waiver.pk}, expect=every(NOT_FOUND, staff=OK))],
    "fees:invoice_pdf": [Case(kwargs=lambda w: {"invoice_id": w.invoice.pk}, expect=every(NOT_FOUND, staff=OK))],
    # Completion reports and refund decisions: HEC staff; the ledgers: staff, and focal persons for their own.
    "fees:completions_import": [Case(expect=staff_only())],
    "fees:completions_import_detail": [Case(kwargs=lambda w: {"pk": _completion_import(w).pk}, expect=staff_only())],
    "fees:refund_cases": [Case(expect=staff_only())],
    "fees:refunds_decide": [Case(method="post", expect=every(FORBIDDEN, staff=GONE))],
    "fees:refund_decision_correct": [Case(kwargs=lambda w: {"pk": _refund_decision(w).pk}, expect=staff_only())],
    "fees:ledgers": [Case(expect=focal_only(staff=OK))],
    "fees:ledger_download": [Case(kwargs=lambda w: {"kind": "refund", "fmt": "csv"}, expect=focal_only(staff=OK))],
    # What the licenses achieved, and completions for credit: staff, and focal persons for their own.
    "fees:impact": [Case(expect=focal_only(staff=OK))],
    "fees:impact_pdf": [Case(expect=focal_only(staff=OK))],
    "fees:credit_export": [Case(expect=focal_only(staff=OK))],
    "fees:credit_export_download": [Case(kwargs=lambda w: {"fmt": "csv"}, expect=focal_only(staff=OK))],
    # Coursera's API: HEC staff only (no phase posted: back to the page with a message).
    "fees:coursera_api": [Case(expect=staff_only())],
    "fees:coursera_sync_now": [Case(method="post", expect=every(FORBIDDEN, staff=GONE))],
    # Money through the banks. 1Bill's API answers 404 to everyone until its credentials are set.
    "onebill:bill_inquiry": [Case(method="post", expect=dict.fromkeys(ROLES, NOT_FOUND))],
    "onebill:bill_payment": [Case(method="post", expect=dict.fromkeys(ROLES, NOT_FOUND))],
    "fees:bank_scrolls": [Case(expect=staff_only())],
    "fees:scroll_row_resolve": [
        Case(
            method="post",
            kwargs=lambda w: {"row_id": _scroll_row(w).pk, "how": "dismiss"},
            expect=every(FORBIDDEN, staff=GONE),
        )
    ],
    # Refunds paid out: the learner's account (an empty form goes back to their page), the focal
    # person's payout sheet and their university's remittance statements and invoices.
    "fees:refund_account": [Case(method="post", expect=every(NOT_FOUND, learner=GONE, alumnus=GONE))],
    "fees:refund_payouts": [Case(expect=focal_only())],
    "fees:refund_mark_paid": [Case(method="post", expect=every(NOT_FOUND, focal_other=GONE, focal_own=GONE))],
    "fees:refund_payouts_download": [Case(kwargs=lambda w: {"fmt": "csv"}, expect=focal_only())],
    "fees:remittance_issue": [Case(method="post", expect=every(NOT_FOUND, focal_other=GONE, focal_own=GONE))],
    "fees:remittance_download": [
        Case(
            kwargs=lambda w: {"pk": _remittance(w).pk, "fmt": "csv"},
            expect=every(NOT_FOUND, focal_own=OK, staff=OK),
        )
    ],
    "fees:focal_invoices": [Case(expect=focal_only())],
}
# Only mounted by bench/rush.py's own server (BENCH_ENDPOINTS=1), never in the portal.
NOT_SERVED = {"bench_ceiling"}


# Walking the URLconf ----------------------------------------------------------------------------------


def url_names(resolver: URLResolver | None = None, namespace: str = "") -> list[str]:
    """Every URL name of the URLconf, with its namespace; unnamed patterns as ``ns:<path>``."""
    resolver = resolver or get_resolver()
    names: list[str] = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            names += url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or f"<{pattern.pattern}>"
            names.append(f"{namespace}:{name}" if namespace else name)
    return list(dict.fromkeys(names))


ALL_NAMES = url_names()
PORTAL_NAMES = [name for name in ALL_NAMES if not name.startswith("admin:")]
ADMIN_NAMES = [name for name in ALL_NAMES if name.startswith("admin:")]


def outcome(response) -> str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("account_login")):
            return LOGIN
        return GONE
    return str(response.status_code)


def request(client: Client, case: Case, name: str, world: World):
    url = reverse(name, kwargs=case.kwargs(world))
    return getattr(client, case.method)(url, case.data(world)), url


def test_every_portal_url_is_in_the_table():
    missing = [name for name in PORTAL_NAMES if name not in TABLE and name not in NOT_SERVED]
    assert not missing, f"URL names missing from the authorization table in {__name__}: {missing}"
    mounted = [name for name in PORTAL_NAMES if name in NOT_SERVED]
    assert not mounted, f"mounted although only for the benchmark server: {mounted}"


def test_every_portal_url_gives_each_role_what_the_table_says(world):
    """One world, every URL and role in turn (the few writes they make do not change the answers)."""
    clients = {role: client_for(world, role) for role in ROLES}
    problems = []
    for name in PORTAL_NAMES:
        for case in TABLE.get(name, []):
            assert set(case.expect) == set(ROLES), f"{name}: the table must say what every role gets"
            for role in ROLES:
                response, url = request(clients[role], case, name, world)
                got = outcome(response)
                if response.status_code >= 500 or got != case.expect[role]:
                    problems.append(f"{role} on {url} ({name}): got {got}, table says {case.expect[role]}")
    assert not problems, "\n".join(problems)


def test_the_table_names_only_urls_that_exist():
    assert set(TABLE) <= set(PORTAL_NAMES), set(TABLE) - set(PORTAL_NAMES)


# The admin, as a group ------------------------------------------------------------------------------

# Nothing financial and no nomination is deleted, even by HEC staff.
UNDELETABLE = {
    "registrations.nomination",
    "registrations.invitation",
    "registrations.invitationattempt",
    "registrations.nominationupload",
    "registrations.disclaimer",
    "fees.challan",
    "fees.alumnipayment",
    "fees.deposit",
    "fees.disabilitywaiver",
    "fees.invoice",
    "fees.refunddecision",
    "fees.coursecompletion",
    "fees.completionimport",
    "fees.billpayment",
    "fees.onebilllog",
    "fees.remittance",
    "quotas.allocation",
    "quotas.licensemove",
    "audit.auditentry",
}


def _admin_model_urls(world: World) -> list[tuple[str, str, str]]:
    """(model label, view, url) for every model of the admin: changelist, add, change, history, delete."""
    from django.contrib import admin

    rows = []
    for model in admin.site._registry:
        meta = model._meta
        label = meta.label_lower
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        rows.append((label, "changelist", reverse(f"{prefix}_changelist")))
        rows.append((label, "add", reverse(f"{prefix}_add")))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            for view in ("change", "history", "delete"):
                rows.append((label, view, reverse(f"{prefix}_{view}", args=[obj.pk])))
    return rows


def test_every_admin_url_is_a_model_page_or_a_known_admin_page():
    """The admin is judged as a group below; a URL name that is neither a model's standard page nor
    one of these would escape it, so it must be listed here."""
    from django.contrib import admin

    model_prefixes = [f"admin:{m._meta.app_label}_{m._meta.model_name}_" for m in admin.site._registry]
    known = {
        "admin:index", "admin:login", "admin:logout", "admin:password_change", "admin:password_change_done",
        "admin:autocomplete", "admin:jsi18n", "admin:view_on_site", "admin:app_list",
        "admin:auth_user_password_change",
        # The Verify / Reject buttons of a payment's change page: POST only, behind the admin's sign-in.
        "admin:fees_alumnipayment_decide",
    }  # fmt: skip
    standard = {"changelist", "add", "change", "history", "delete", "import", "process_import", "export"}
    unknown = []
    for name in ADMIN_NAMES:
        if name in known or name.startswith("admin:<"):
            continue
        prefix = next((p for p in model_prefixes if name.startswith(p)), None)
        if prefix is None or name[len(prefix) :] not in standard:
            unknown.append(name)
    assert not unknown, f"admin URL names missing from the authorization table: {unknown}"


@pytest.mark.parametrize("role", ["anonymous", "learner", "alumnus", "focal_other", "focal_own"])
def test_nobody_but_hec_staff_gets_past_the_admin_sign_in(world, role):
    client = client_for(world, role)
    urls = [reverse("admin:index"), *(url for _label, _view, url in _admin_model_urls(world))]
    for name in ADMIN_NAMES:
        if name.endswith(("_import", "_process_import", "_export")):
            urls.append(reverse(name))
    for url in urls:
        response = client.get(url)
        assert outcome(response) == ADMIN_LOGIN, f"{role} on {url}: {response.status_code}"


def test_hec_staff_see_every_admin_list_and_record_but_delete_nothing_financial(world):
    client = client_for(world, "staff")
    assert client.get(reverse("admin:index")).status_code == 200
    problems = []
    for label, view, url in _admin_model_urls(world):
        status = client.get(url).status_code
        if label.startswith(("auth.", "account.")):
            # Accounts are HEC's IT administrators' business, not the programme staff's.
            expected = {403}
        elif view == "delete" and label in UNDELETABLE:
            expected = {403}
        elif view in ("add", "delete"):
            expected = {200, 403}
        else:
            expected = {200}
        if status not in expected:
            problems.append(f"{view} {label}: {status}, expected {sorted(expected)}")
    assert not problems, problems
