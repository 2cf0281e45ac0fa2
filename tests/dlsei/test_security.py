"""Hardening, as a browser or an attacker would see it: the Content-Security-Policy on every page,
safe headers on private files, CNICs masked in lists and exports, sign-in attempts limited (on the
admin's sign-in too), an audit entry for every state change of nominations, payments, allocations
and refund decisions, and production settings with secure cookies and HSTS."""

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from tests import factories
from tests.factories import pdf_upload, student_data


def signed_in(user) -> Client:
    client = Client()
    client.raise_request_exception = False
    if user is not None:
        client.force_login(user)
    return client


# Content-Security-Policy ------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son(?:click|load|change|submit|error)\s*=", re.IGNORECASE)


def sample_pages(world) -> list[tuple[str, str]]:
    """(role, url) for a few pages of every role, the admin included."""
    phase = world.phase.slug
    return [
        ("anonymous", reverse("home")),
        ("anonymous", reverse("account_login")),
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("account_request_login_code")),
        ("anonymous", "/no-such-page/"),
        ("learner", reverse("fees:my_license")),
        ("learner", reverse("registrations:my_status")),
        ("alumnus", reverse("fees:my_license")),
        ("alumnus", reverse("registrations:alumni_register")),
        ("focal_own", reverse("registrations:focal_dashboard")),
        ("focal_own", reverse("registrations:focal_nominees")),
        ("focal_own", reverse("registrations:focal_nominee_add")),
        ("focal_own", reverse("portal:nominations_upload")),
        ("focal_own", reverse("portal:nominations_preview", args=[world.upload.pk])),
        ("focal_own", reverse("fees:deposits")),
        ("focal_other", reverse("quotas:phase_list")),  # the friendly 403 page
        ("staff", reverse("quotas:phase_list")),
        ("staff", reverse("quotas:allocation_preview", args=[phase, world.allocation.version])),
        ("staff", reverse("registrations:staff_utilisation", args=[phase])),
        ("staff", reverse("fees:staff_license_moves", args=[phase])),
        ("staff", reverse("admin:index")),
        ("staff", reverse("admin:registrations_nomination_changelist")),
        ("staff", reverse("admin:registrations_nomination_change", args=[world.plain_nomination.pk])),
        ("staff", reverse("admin:fees_alumnipayment_change", args=[world.payment.pk])),
        ("staff", reverse("admin:registrations_invitation_changelist")),
        ("staff", reverse("admin:quotas_allocation_changelist")),
    ]


def test_every_page_has_a_strict_content_security_policy_and_no_inline_script(world):
    for role, url in sample_pages(world):
        response = signed_in(world.users[role]).get(url)
        assert response.status_code in (200, 403, 404), (role, url, response.status_code)
        policy = csp_directives(response)
        assert policy.get("default-src") == ["'self'"], (url, policy)
        scripts = policy.get("script-src", policy["default-src"])
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, (url, scripts)
        assert "*" not in scripts and "data:" not in scripts, (url, scripts)
        assert policy.get("object-src") == ["'none'"], url
        assert policy.get("frame-ancestors") == ["'none'"], url
        html = response.content.decode()
        # An inline script would be blocked by the policy, so a page must not depend on one.
        assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), (url, INLINE_HANDLER.search(html).group(0))
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"


# Private files -----------------------------------------------------------------------------------------


def private_files(world) -> list[tuple[str, str]]:
    return [
        ("focal_own", reverse("registrations:file_disclaimer", args=[world.disclaimer_b.pk])),
        ("focal_own", reverse("registrations:file_nomination_upload", args=[world.upload.pk])),
        ("learner", reverse("registrations:file_nomination", args=[world.learner_nomination.pk, "certificate"])),
        ("alumnus", reverse("registrations:file_nomination", args=[world.alumni_nomination.pk, "transcript"])),
        ("alumnus", reverse("fees:challan_download")),
        ("staff", reverse("fees:payment_file", args=[world.payment.pk, "paid_challan"])),
        ("staff", reverse("fees:payment_file", args=[world.payment.pk, "transcript"])),
        ("staff", reverse("fees:waiver_file", args=[world.waiver.pk])),
    ]


def test_private_files_are_downloads_never_sniffed_never_cached(world):
    for role, url in private_files(world):
        response = signed_in(world.users[role]).get(url)
        assert response.status_code == 200, (role, url)
        assert response["Content-Disposition"].startswith("attachment;"), (url, response["Content-Disposition"])
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert "no-store" in response["Cache-Control"], (url, response["Cache-Control"])
        assert response["Content-Type"] in ("application/pdf", "image/png", "image/jpeg", "text/csv; charset=utf-8")


def test_generated_pdfs_are_never_cached(world):
    response = signed_in(world.users["staff"]).get(reverse("fees:invoice_pdf", args=[world.invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


# CNICs -------------------------------------------------------------------------------------------------


def full_cnics(world) -> list[str]:
    from registrations.models import Nomination

    cnics = list(Nomination.objects.values_list("cnic", flat=True))
    assert len(cnics) >= 3
    return cnics + [f"{c[:5]}-{c[5:12]}-{c[12]}" for c in cnics]


def test_cnics_are_masked_in_list_pages(world):
    cnics = full_cnics(world)
    pages = [
        ("focal_own", reverse("registrations:focal_nominees")),
        ("focal_own", reverse("fees:deposits")),
        ("focal_own", reverse("registrations:focal_nominee_withdraw", args=[world.plain_nomination.pk])),
        ("focal_own", reverse("fees:deposit_record", args=[world.plain_nomination.pk])),
        ("learner", reverse("fees:my_license")),
        ("learner", reverse("registrations:my_status")),
        ("alumnus", reverse("fees:my_license")),
        ("alumnus", reverse("registrations:alumni_register")),
        ("staff", reverse("admin:registrations_nomination_changelist")),
        ("staff", reverse("admin:registrations_invitation_changelist")),
        ("staff", reverse("admin:fees_alumnipayment_changelist")),
        ("staff", reverse("admin:fees_challan_changelist")),
        ("staff", reverse("admin:fees_disabilitywaiver_changelist")),
        ("staff", reverse("admin:audit_auditentry_changelist")),
    ]
    for role, url in pages:
        response = signed_in(world.users[role]).get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        leaked = [cnic for cnic in cnics if cnic in html]
        assert not leaked, f"full CNIC on {url}"
    nominees = signed_in(world.users["focal_own"]).get(reverse("registrations:focal_nominees")).content.decode()
    assert "*****-*****" in nominees  # shown, masked


def test_cnics_are_masked_in_the_exports(world):
    from fees.deposits import deposit_record
    from registrations.coursera_invites import coursera_invites_csv
    from registrations.models import Nomination

    deposit_record(
        nomination=world.plain_nomination,
        receipt="R-1",
        paid_on=datetime.date(2021, 9, 15),
        actor=world.users["focal_own"],
    )
    cnics = full_cnics(world)
    client = signed_in(world.users["staff"])
    ledger = reverse("fees:ledger_download", args=["pending", "csv"]) + f"?phase={world.phase.slug}"
    exports = [
        client.get(reverse("registrations:staff_utilisation_export", args=[world.phase.slug, "csv"])).content,
        client.get(ledger).content,
        signed_in(world.users["focal_own"]).get(ledger).content,
        coursera_invites_csv(nominations=Nomination.objects.all()),
    ]
    for data in exports:
        text = data.decode("utf-8-sig")
        assert not [cnic for cnic in cnics if cnic in text]
    assert "*****-*****" in exports[1].decode("utf-8-sig")  # the ledger names the learner by the masked CNIC


def test_cnics_never_reach_the_logs(world, caplog):
    """Submitting, refusing a duplicate, importing a file and withdrawing, with every logger on."""
    caplog.set_level("DEBUG")
    focal = world.users["focal_own"]
    client = signed_in(focal)
    add = reverse("registrations:focal_nominee_add")
    form = {"full_name": "Log Test", "cnic": "37405-0000077-7", "email": "log@example.edu.pk", "role": "student",
            "programme_years": "16"}  # fmt: skip
    assert client.post(add, form).status_code == 302
    assert client.post(add, {**form, "email": "other@example.edu.pk"}).status_code == 400  # the same CNIC again
    data = (
        "full_name,cnic,email,phone,role,programme_years,disability\n"
        "File Test,37405-0000078-8,f@example.edu.pk,,student,16,no\n"
    )
    upload = client.post(reverse("portal:nominations_upload"), {"file": SimpleUploadedFile("l.csv", data.encode())})
    assert upload.status_code == 302
    upload_id = int(upload["Location"].rstrip("/").rsplit("/", 1)[1])
    client.post(reverse("portal:nominations_confirm", args=[upload_id]))
    client.post(reverse("registrations:focal_nominee_withdraw", args=[world.plain_nomination.pk]), {"reason": "Left"})
    cnics = full_cnics(world)
    assert "3740500000777" in cnics and "3740500000788" in cnics  # both were stored
    assert not [cnic for cnic in cnics if cnic in caplog.text]


def test_audit_summaries_never_hold_a_full_cnic(world):
    cnics = full_cnics(world)
    for entry in AuditEntry.objects.all():
        blob = entry.summary + json.dumps(entry.data)
        assert not [cnic for cnic in cnics if cnic in blob], entry.action


# Sign-in rate limits ---------------------------------------------------------------------------------------


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_allauth_limits_failed_sign_ins_even_when_the_password_is_then_right(db, fresh_cache):
    user = factories.make_user(email="target@example.pk")
    client = Client()
    for _attempt in range(5):
        wrong = client.post(reverse("account_login"), {"login": user.email, "password": "not-the-password"})
        assert wrong.status_code == 200
        assert "_auth_user_id" not in client.session
    blocked = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert blocked.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    if blocked.status_code == 200:
        assert "Too many failed login attempts" in blocked.content.decode()


def test_the_admin_sign_in_is_the_same_limited_sign_in(db, fresh_cache):
    """Django's own admin login form has no limit: it must hand over to allauth's."""
    staff = factories.make_hec_staff(email="boss@hec.gov.pk")
    client = Client()
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    for _attempt in range(5):
        client.post(reverse("admin:login"), {"username": staff.email, "password": "nope"})
        client.post(reverse("account_login"), {"login": staff.email, "password": "nope"})
    assert "_auth_user_id" not in client.session
    client.post(reverse("admin:login"), {"username": staff.email, "password": factories.PASSWORD})
    client.post(reverse("account_login"), {"login": staff.email, "password": factories.PASSWORD})
    assert "_auth_user_id" not in client.session


def test_the_rate_limits_are_allauths_defaults_and_not_switched_off():
    from allauth.account import app_settings

    assert getattr(django_settings, "ACCOUNT_RATE_LIMITS", None) is not False
    limits = app_settings.RATE_LIMITS
    assert limits.get("login_failed"), limits
    assert limits.get("reset_password"), limits


# The audit trail -------------------------------------------------------------------------------------------


def audited(action: str, *, actor, target=None, target_type: str = "") -> AuditEntry:
    entries = AuditEntry.objects.filter(action=action, actor=actor)
    if target is not None:
        entries = entries.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    elif target_type:
        entries = entries.filter(target_type=target_type)
    entry = entries.order_by("-pk").first()
    assert entry is not None, f"no audit entry {action} by {actor} on {target or target_type}"
    assert entry.summary
    return entry


def test_every_state_change_of_nominations_payments_allocations_and_refunds_is_audited(world):
    from fees.alumni_payments import alumni_payment_reject, alumni_payment_verify
    from fees.completions import completions_import
    from fees.deposits import deposit_correct, deposit_record
    from fees.invoices import invoice_mark_paid
    from fees.models import RefundDecision
    from fees.refunds import refund_decision_correct, refunds_decide
    from fees.waivers import waiver_decide
    from quotas.models import Allocation, LicenseMove
    from registrations.services import (
        licenses_move,
        nomination_reinstate,
        nomination_reject,
        nomination_submit,
        nomination_withdraw,
    )

    staff, focal, alumnus = world.users["staff"], world.users["focal_own"], world.users["alumnus"]
    phase = world.phase

    # Nominations: submitted, withdrawn, rejected, reinstated.
    audited("nomination.submit", actor=focal, target=world.plain_nomination)
    audited("nomination.submit", actor=alumnus, target=world.alumni_nomination)
    extra = nomination_submit(phase=phase, university=world.uni_b, data=student_data(50), actor=focal)
    nomination_withdraw(nomination=extra, actor=focal, reason="Left the university")
    audited("nomination.withdraw", actor=focal, target=extra)
    other = nomination_submit(phase=phase, university=world.uni_b, data=student_data(51), actor=focal)
    nomination_reject(nomination=other, actor=staff, reason="Programme is 14 years")
    audited("nomination.reject", actor=staff, target=other)
    nomination_reinstate(nomination=other, actor=staff)
    audited("nomination.reinstate", actor=staff, target=other)

    # Payments: challan, alumni payment submitted, rejected, deposits recorded and corrected,
    # waiver decided, invoice issued and paid.
    audited("challan.issue", actor=alumnus, target=world.alumni_nomination.challans.get())
    audited("alumni_payment.submit", actor=alumnus, target=world.payment)
    alumni_payment_reject(payment=world.payment, actor=staff, reason="The stamp is unreadable")
    audited("alumni_payment.reject", actor=staff, target=world.payment)
    from fees.alumni_payments import alumni_payment_submit

    again = alumni_payment_submit(
        nomination=world.alumni_nomination, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=alumnus
    )
    alumni_payment_verify(payment=again, actor=staff)
    audited("alumni_payment.verify", actor=staff, target=again)
    deposit = deposit_record(
        nomination=world.plain_nomination, receipt="R-100", paid_on=datetime.date(2021, 9, 15), actor=focal
    )
    audited("deposit.record", actor=focal, target=deposit)
    corrected = deposit_correct(
        deposit=deposit, receipt="R-101", paid_on=datetime.date(2021, 9, 16), reason="Typo in the receipt", actor=focal
    )
    audited("deposit.correct", actor=focal, target=corrected)
    waiver_decide(waiver=world.waiver, approve=True, actor=staff)
    audited("waiver.approve", actor=staff, target=world.waiver)
    audited("invoice.issue", actor=staff, target=world.invoice)
    invoice_mark_paid(invoice=world.invoice, reference="PERN-42", actor=staff)
    audited("invoice.paid", actor=staff, target=world.invoice)

    # Allocations: run, published, licenses moved.
    published = Allocation.objects.get(phase=phase, status=Allocation.Status.PUBLISHED)
    audited("allocation.run", actor=staff, target=world.allocation)
    audited("allocation.publish", actor=staff, target=published)
    licenses_move(
        phase=phase, from_university=world.uni_a, to_university=world.uni_b, licenses=1, reason="Unused", actor=staff
    )
    audited("license.move", actor=staff, target=LicenseMove.objects.get())

    # Refund decisions: decided from the completions, then corrected.
    world.plain_nomination.refresh_from_db()
    type(world.plain_nomination).objects.filter(pk=world.plain_nomination.pk).update(
        activated_on=datetime.date(2021, 10, 1)
    )
    header = "Email,External Id,Course,Course Slug,Course Type,Completed,Completion Time,Course Certificate URL\n"
    report = header + f"{world.plain_nomination.email},,Course A,a,Course,Yes,2021-11-01 09:00:00 UTC,\n"
    completions_import(phase=phase, data=report.encode(), filename="report.csv", actor=staff)
    audited("completions.import", actor=staff)
    decisions = refunds_decide(phase=phase, as_of=datetime.date(2022, 11, 1), actor=staff)
    assert decisions, "the learner's license year is over: a decision is due"
    audited("refunds.decide", actor=staff, target_type="fees.refunddecision")
    decision = RefundDecision.objects.get(nomination=world.plain_nomination)
    new = refund_decision_correct(
        decision=decision, new_decision="refund", reason="Coursera confirmed two more courses", actor=staff
    )
    audited("refund_decision.correct", actor=staff, target=new)

    # The trail is append-only for HEC staff too.
    client = signed_in(staff)
    entry = AuditEntry.objects.order_by("pk").first()
    assert client.get(reverse("admin:audit_auditentry_delete", args=[entry.pk])).status_code == 403
    assert client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {"summary": "x"}).status_code == 403


# Production settings ---------------------------------------------------------------------------------------


def test_production_settings_have_secure_cookies_hsts_and_no_debug(tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ['DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_HTTPONLY', "
        "'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS']}))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "DATABASE_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dlsei.settings",
        DEBUG="0",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="dlsei.hec.gov.pk",
        VAR_DIR=str(tmp_path),
    )
    root = Path(django_settings.BASE_DIR)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"

    without_secret = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={k: v for k, v in env.items() if k != "SECRET_KEY"},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert without_secret.returncode != 0
    assert "SECRET_KEY must be set" in without_secret.stderr
