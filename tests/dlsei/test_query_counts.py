"""Every list page and export runs as many queries with 1,000 rows as with 10.

The rows are made with bulk_create (what the pages read, as the services leave it). Each page is
measured at 10 rows and again after 990 more; the two counts must be equal. Where a page shows a
page of rows at a time, the test also checks that paging is what keeps it small.
"""

import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fees.models import AlumniPayment, Challan, Deposit, RefundDecision
from quotas.models import Pool, Quota, University
from registrations.models import Invitation, Nomination, NominationStatus
from registrations.services import disclaimer_upload
from tests import factories
from tests.factories import pdf_upload

ACTIVATED = datetime.date(2021, 10, 1)  # the license year is over: refunds are decided


@dataclass
class Scene:
    phase: object
    university: University
    alumni_quota: Quota
    quota: Quota
    focal: object
    staff: object
    made: int = 0


@pytest.fixture
def scene(db) -> Scene:
    phase = factories.make_phase(slug="counts")
    university = factories.make_university(code="CNT")
    quota = factories.make_quota(phase=phase, university=university, licenses=100_000)
    alumni_quota = factories.make_quota(phase=phase, university=None, licenses=100_000)
    focal = factories.make_focal_person(university=university, email="focal@cnt.edu.pk")
    disclaimer_upload(phase=phase, university=university, file=pdf_upload(), actor=focal)
    staff = factories.make_hec_staff(email="counts@hec.gov.pk")
    return Scene(phase, university, alumni_quota, quota, focal, staff)


def grow(scene: Scene, n: int) -> None:
    """n more of every kind of row the pages list: public nominees (seated, cleared, invited, with a
    deposit and a refund decision), alumni (with a challan and a payment), universities with quotas."""
    start, scene.made = scene.made, scene.made + n
    now = timezone.now()
    numbers = range(start, start + n)
    public = Nomination.objects.bulk_create(
        Nomination(
            phase=scene.phase, quota=scene.quota, university=scene.university, pool=Pool.PUBLIC, role="student",
            full_name=f"Student {i}", cnic=f"{3910100000000 + i:013d}", email=f"s{i}@cnt.edu.pk",
            programme_years=16, status=NominationStatus.SEATED, seat_kind="general", seated_at=now,
            settled_at=now, cleared_at=now, activated_on=ACTIVATED, submitted_by=scene.focal,
        )
        for i in numbers
    )  # fmt: skip
    alumni = Nomination.objects.bulk_create(
        Nomination(
            phase=scene.phase, quota=scene.alumni_quota, university=None, pool=Pool.ALUMNI, role="alumnus",
            full_name=f"Alumnus {i}", cnic=f"{3920100000000 + i:013d}", email=f"a{i}@example.pk",
            degree="BS", graduated_from="QAU", graduation_date=datetime.date(2020, 6, 30),
            status=NominationStatus.SEATED, seat_kind="general", seated_at=now, submitted_by=scene.staff,
        )
        for i in numbers
    )  # fmt: skip
    Quota.objects.filter(pk=scene.quota.pk).update(general_seated=scene.made)
    Quota.objects.filter(pk=scene.alumni_quota.pk).update(general_seated=scene.made)
    Invitation.objects.bulk_create(
        Invitation(nomination=nomination, state=Invitation.State.SENT, sent_at=now, sent_to=nomination.email)
        for nomination in public
    )
    Deposit.objects.bulk_create(
        Deposit(
            nomination=nomination,
            amount=4_000,
            receipt=f"R-{nomination.pk}",
            paid_on=ACTIVATED,
            recorded_by=scene.focal,
        )  # fmt: skip
        for nomination in public
    )
    RefundDecision.objects.bulk_create(
        RefundDecision(
            nomination=nomination,
            decision="forfeit",
            courses_completed=0,
            amount=4_000,
            as_of=datetime.date(2022, 10, 1),
            decided_by=scene.staff,
        )  # fmt: skip
        for nomination in public[: n // 2]
    )
    challans = Challan.objects.bulk_create(
        Challan(
            number=f"DLSEI-T-{nomination.pk:07d}",
            nomination=nomination,
            amount=8_000,
            due_date=datetime.date(2021, 10, 1),
            payer_name=nomination.full_name,
            payer_cnic=nomination.cnic,
            issued_by=scene.staff,
        )  # fmt: skip
        for nomination in alumni
    )
    AlumniPayment.objects.bulk_create(
        AlumniPayment(
            nomination=challan.nomination,
            challan=challan,
            paid_challan=f"paid-challans/{challan.pk}.pdf",
            transcript=f"transcripts/{challan.pk}.pdf",
            submitted_by=scene.staff,
        )  # fmt: skip
        for challan in challans
    )
    universities = University.objects.bulk_create(
        University(code=f"U{i:05d}", name=f"University {i}", sector="public", enrolment=1_000 + i) for i in numbers
    )
    Quota.objects.bulk_create(
        Quota(phase=scene.phase, university=university, pool=Pool.PUBLIC, licenses=100) for university in universities
    )


@dataclass(frozen=True)
class Page:
    user: str  # "focal" or "staff"
    url: Callable[[Scene], str]
    method: str = "get"
    data: Callable[[Scene], dict] = lambda s: {}
    rows_shown: Callable[[bytes], int] | None = None  # for pages that show a page of rows at a time


def _table_rows(content: bytes) -> int:
    body = content.decode()
    return len(re.findall(r"<tr[\s>]", body)) - 1  # minus the header row


def _csv_rows(content: bytes) -> int:
    return content.decode("utf-8-sig").count("\r\n") - 1


def _xlsx_rows(content: bytes) -> int:
    return sum(1 for _row in load_workbook(io.BytesIO(content), read_only=True).active.iter_rows()) - 1


def _changelist(model) -> Page:
    meta = model._meta
    return Page("staff", lambda s: reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))


def _coursera_export(scene: Scene) -> dict:
    """The admin's "select all N invitations" then the bulk-invite CSV action."""
    return {
        "action": "download_coursera_csv",
        "select_across": "1",
        "index": "0",
        "_selected_action": [Invitation.objects.values_list("pk", flat=True).first()],
    }


PAGES: dict[str, Page] = {
    "focal nominee list": Page("focal", lambda s: reverse("registrations:focal_nominees"), rows_shown=_table_rows),
    "focal deposits": Page("focal", lambda s: reverse("fees:deposits")),
    "staff dashboard": Page("staff", lambda s: reverse("dashboard") + f"?phase={s.phase.slug}"),
    "staff utilisation": Page("staff", lambda s: reverse("registrations:staff_utilisation", args=[s.phase.slug])),
    "staff utilisation csv": Page(
        "staff", lambda s: reverse("registrations:staff_utilisation_export", args=[s.phase.slug, "csv"])
    ),
    "staff utilisation xlsx": Page(
        "staff", lambda s: reverse("registrations:staff_utilisation_export", args=[s.phase.slug, "xlsx"])
    ),
    "staff license moves": Page("staff", lambda s: reverse("fees:staff_license_moves", args=[s.phase.slug])),
    "admin nominations": _changelist(Nomination),
    "admin alumni payments": _changelist(AlumniPayment),
    "admin invitations": _changelist(Invitation),
    "admin deposits": _changelist(Deposit),
    "admin challans": _changelist(Challan),
    "admin refund decisions": _changelist(RefundDecision),
    "coursera export": Page(
        "staff",
        lambda s: reverse("admin:registrations_invitation_changelist"),
        method="post",
        data=_coursera_export,
        rows_shown=_csv_rows,
    ),  # fmt: skip
    "refund cases": Page("staff", lambda s: reverse("fees:refund_cases") + f"?phase={s.phase.slug}"),
    "ledgers": Page("staff", lambda s: reverse("fees:ledgers") + f"?phase={s.phase.slug}"),
    "ledgers of the university": Page("focal", lambda s: reverse("fees:ledgers") + f"?phase={s.phase.slug}"),
    "forfeit ledger csv": Page(
        "staff",
        lambda s: reverse("fees:ledger_download", args=["forfeit", "csv"]) + f"?phase={s.phase.slug}",
        rows_shown=_csv_rows,
    ),  # fmt: skip
    "pending ledger xlsx": Page(
        "staff",
        lambda s: reverse("fees:ledger_download", args=["pending", "xlsx"]) + f"?phase={s.phase.slug}",
        rows_shown=_xlsx_rows,
    ),  # fmt: skip
}


def measure(scene: Scene, clients: dict[str, Client]) -> dict[str, tuple[int, int | None]]:
    """{page: (queries, rows shown)}"""
    results = {}
    for name, page in PAGES.items():
        client = clients[page.user]
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, page.method)(page.url(scene), page.data(scene))
        assert response.status_code == 200, (name, response.status_code)
        results[name] = (len(queries), page.rows_shown(response.content) if page.rows_shown else None)
    return results


def test_every_list_page_and_export_runs_the_same_queries_at_10_and_at_1000_rows(scene):
    assert all(m in admin.site._registry for m in (Nomination, AlumniPayment, Invitation, RefundDecision))
    clients = {"focal": Client(), "staff": Client()}
    clients["focal"].force_login(scene.focal)
    clients["staff"].force_login(scene.staff)
    measure(scene, clients)  # warm up: sessions, content types, permissions caches

    grow(scene, 10)
    small = measure(scene, clients)
    grow(scene, 990)
    large = measure(scene, clients)

    grew = {name: (small[name][0], large[name][0]) for name in PAGES if small[name][0] != large[name][0]}
    assert not grew, f"queries at 10 rows vs 1,000 rows: {grew}"

    # Where rows are shown a page at a time, paging is what caps them; exports hold every row.
    assert small["focal nominee list"][1] == 10
    assert large["focal nominee list"][1] == 50
    assert small["coursera export"][1] == 10 and large["coursera export"][1] == 1_000
    for export in ("forfeit ledger csv", "pending ledger xlsx"):
        assert small[export][1] >= 5 and large[export][1] >= 500, (export, small[export], large[export])


def test_the_admin_lists_show_a_page_at_a_time(scene):
    """So a changelist never renders thousands of rows; its count query is the same at any size."""
    for model in (Nomination, AlumniPayment, Invitation, RefundDecision, Deposit, Challan):
        assert admin.site._registry[model].list_per_page <= 100, model
