"""A phase whose learners were invited and then reported on by Coursera, built only through the
real services and imports: nominations by focal persons, deposits, a paid private invoice, a
verified alumni payment (each sends its invitation), then Coursera's membership report and its
usage report (with grades and estimated hours) imported as HEC staff import them.

Used by the tests of the impact report, the academic-credit export and the unclaimed seats.
What the reports say, per learner (hours in brackets):

=====  ======  ===========================================================================
QAU    q1      joined; ML (10), Python (20), Excel (5.5), ML again, a guided project (2)
       q2      joined; Python (20), the Data Science specialization (60)
       q3      joined; nothing completed (Python started, not finished)
       q4      invited, never joined
       q5      on the waiting list (QAU has 4 licenses)
PU     p1      joined; ML (10), Python (20), SQL (8), the Google IT Support certificate (100)
       p2      invited, never joined
       p3      seated, no deposit yet: not invited
LUMS   l1      joined; ML (10), a "Project" of a type the portal does not know (3)
       l2      invited, never joined
alumni a1      joined; Python (20), Excel (5.5)
=====  ======  ===========================================================================

Plus a row of someone who is not a learner of the phase (reported as unmatched).
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass

from fees.alumni_payments import alumni_payment_submit, alumni_payment_verify
from fees.challans import challan_issue
from fees.completions import completions_import
from fees.deposits import deposit_record
from fees.invoices import invoice_issue, invoice_mark_paid
from registrations.models import Nomination
from registrations.reminders import memberships_import
from tests import factories
from tests.factories import learner_account, pdf_upload
from tests.fees.conftest import nominate_student, png_upload, register_alumnus, university_ready

USAGE_HEADER = (
    "Name,Email,External Id,Course,Course ID,Course Slug,University,Enrollment Time,Overall Progress,"
    "Estimated Learning Hours,Completed,Removed From Program,Completion Time,Course Grade,"
    "Course Certificate URL,Course Type"
)
COURSES = {  # slug: (name, hours)
    "machine-learning": ("Machine Learning", "10"),
    "python": ("Python for Everybody", "20"),
    "excel": ("Excel Skills for Business", "5.5"),
    "sql": ("SQL for Data Science", "8"),
}


@dataclass
class OutcomesPhase:
    phase: object
    qau: object
    pu: object
    lums: object
    qau_focal: object
    pu_focal: object
    learners: dict[str, Nomination]

    def __getitem__(self, name: str) -> Nomination:
        return Nomination.objects.get(pk=self.learners[name].pk)


def usage_row(nomination, slug: str, *, when: str, kind: str = "Course", name: str = "", hours: str = "",
              completed: str = "Yes", grade: str = "0.95") -> str:  # fmt: skip
    course, default_hours = COURSES.get(slug, (name, hours))
    cells = [
        nomination.full_name, nomination.email, nomination.learner_id_external, name or course, f"id-{slug}", slug,
        "Some University", "2021-10-01 00:00:00 UTC", "100", hours or default_hours, completed, "No",
        when if completed == "Yes" else "", grade, f"https://coursera.org/verify/{nomination.pk}-{slug}", kind,
    ]  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def usage_report(*rows: str) -> bytes:
    return ("\ufeff" + "\r\n".join([USAGE_HEADER, *rows]) + "\r\n").encode()


def outcomes_phase_build(*, hec_staff, commit, slug: str = "outcomes", reports: bool = True) -> OutcomesPhase:
    """Build the phase above. ``commit`` is pytest-django's django_capture_on_commit_callbacks, so
    that the invitations really go out (in-process) as they would after a commit. With
    ``reports=False`` the learners are invited and nothing is imported from Coursera yet."""
    phase = factories.make_phase(slug=slug, coursera_invitation_url="https://www.coursera.org/programs/dlsei?x=1")
    qau, qau_focal = university_ready(phase=phase, code="QAU", licenses=4)
    pu, pu_focal = university_ready(phase=phase, code="PU", licenses=3)
    lums, lums_focal = university_ready(phase=phase, code="LUMS", sector="private", licenses=2)
    for university, name in ((qau, "Quaid-i-Azam University"), (pu, "University of the Punjab"),
                             (lums, "Lahore University of Management Sciences")):  # fmt: skip
        university.name = name
        university.save(update_fields=["name"])
    factories.make_quota(phase=phase, university=None, licenses=2)
    learners: dict[str, Nomination] = {}
    for name in ("q1", "q2", "q3", "q4", "q5"):
        learners[name] = nominate_student(phase=phase, university=qau, focal=qau_focal, full_name=f"Learner {name}",
                                          email=f"{name}@qau.edu.pk")  # fmt: skip
    for name in ("p1", "p2", "p3"):
        learners[name] = nominate_student(phase=phase, university=pu, focal=pu_focal, full_name=f"Learner {name}",
                                          email=f"{name}@pu.edu.pk")  # fmt: skip
    for name in ("l1", "l2"):
        learners[name] = nominate_student(phase=phase, university=lums, focal=lums_focal,
                                          full_name=f"Learner {name}", email=f"{name}@lums.edu.pk")  # fmt: skip
    learners["a1"] = register_alumnus(phase=phase, full_name="Learner a1", email="a1@example.pk")

    with commit(execute=True):
        for number, name in enumerate(("q1", "q2", "q3", "q4", "p1", "p2"), start=1):
            focal = qau_focal if name.startswith("q") else pu_focal
            deposit_record(nomination=learners[name], receipt=f"R-{number}", paid_on=dt.date(2021, 9, 20), actor=focal)
        invoice = invoice_issue(phase=phase, university=lums, actor=hec_staff)
        invoice_mark_paid(invoice=invoice, reference="PERN-77", actor=hec_staff)
        alumnus = learners["a1"]
        challan_issue(nomination=alumnus, actor=learner_account(alumnus))
        payment = alumni_payment_submit(
            nomination=alumnus,
            paid_challan=pdf_upload("paid.pdf"),
            transcript=png_upload(),
            actor=learner_account(alumnus),
        )
        alumni_payment_verify(payment=payment, actor=hec_staff)

    built = OutcomesPhase(phase=phase, qau=qau, pu=pu, lums=lums, qau_focal=qau_focal, pu_focal=pu_focal,
                          learners=learners)  # fmt: skip
    if not reports:
        return built
    membership = ["Name,Email,External Id,Program Name,Join Date"] + [
        f"Learner {name},{learners[name].email},{learners[name].learner_id_external},DLSEI,{day}"
        for name, day in (("q1", "2021-10-01"), ("q2", "2021-10-02"), ("q3", "2021-10-05"), ("p1", "2021-10-03"),
                          ("l1", "2021-10-04"), ("a1", "2021-10-06"))
    ]  # fmt: skip
    memberships_import(phase=phase, data="\r\n".join(membership).encode(), filename="members.csv", actor=hec_staff)

    n = learners
    usage = usage_report(
        usage_row(n["q1"], "machine-learning", when="2021-10-20 08:00:00 UTC", grade="0.98"),
        usage_row(n["q1"], "python", when="2021-12-02 08:00:00 UTC"),
        usage_row(n["q1"], "excel", when="2022-01-15 08:00:00 UTC"),
        usage_row(n["q1"], "machine-learning", when="2021-11-20 08:00:00 UTC"),  # the same course again
        usage_row(
            n["q1"],
            "budgeting",
            kind="Guided Project",
            name="Create a Budget in Sheets",
            hours="2",
            when="2021-10-22 08:00:00 UTC",
        ),  # fmt: skip
        usage_row(n["q2"], "python", when="2021-12-10 08:00:00 UTC"),
        usage_row(
            n["q2"],
            "data-science",
            kind="Specialization",
            name="Data Science",
            hours="60",
            when="2022-01-20 08:00:00 UTC",
        ),  # fmt: skip
        usage_row(n["q3"], "python", completed="No", when=""),
        usage_row(n["p1"], "machine-learning", when="2021-10-25 08:00:00 UTC"),
        usage_row(n["p1"], "python", when="2021-12-05 08:00:00 UTC"),
        usage_row(n["p1"], "sql", when="2022-01-05 08:00:00 UTC"),
        usage_row(
            n["p1"],
            "google-it-support",
            kind="Professional Certificate",
            name="Google IT Support",
            hours="100",
            when="2022-01-25 08:00:00 UTC",
        ),  # fmt: skip
        usage_row(n["l1"], "machine-learning", when="2021-10-30 08:00:00 UTC"),
        usage_row(
            n["l1"], "capstone", kind="Project", name="Applied Capstone", hours="3", when="2021-12-30 08:00:00 UTC"
        ),  # fmt: skip
        usage_row(n["a1"], "python", when="2021-12-12 08:00:00 UTC"),
        usage_row(n["a1"], "excel", when="2022-01-16 08:00:00 UTC"),
        '"Not Ours",ghost@example.pk,DLSEI-999-1,"Python for Everybody",id-python,python,X,'
        "2021-10-01 00:00:00 UTC,100,20,Yes,No,2021-12-01 08:00:00 UTC,0.9,,Course",
    )
    completions_import(phase=phase, data=usage, filename="usage-2022-02.csv", actor=hec_staff)
    return built
