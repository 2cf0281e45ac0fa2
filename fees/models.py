from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from registrations.models import Nomination

# --- Challans, alumni payments, deposits, waivers, invoices (the money up to the invitation) -------
#
# Nothing here is ever deleted (every foreign key PROTECTs, and the admin offers no delete): a
# rejected payment, a corrected deposit or a cancelled challan stays as a row, with who and when.


class NumberSequence(models.Model):
    """A counter that hands out document numbers (challans, invoices) that are never reused.

    One row per kind and year. A number is taken with a conditional `UPDATE … SET last_number =
    last_number + 1` inside the transaction that writes the document (fees.challans.number_next),
    so two simultaneous requests can never read the same value; a rolled-back transaction gives its
    number back only together with the document, so no issued number is ever seen twice.
    """

    kind = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="number_sequence_one_per_kind_year")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"


class Challan(models.Model):
    """The bank challan an alumnus pays the fee with: printed once, kept, served as stored.

    Every number on the PDF comes from this row. The payer's CNIC is kept as 13 digits and masked
    when the PDF is drawn. A nomination has one current challan; if HEC restarts the payment hold
    after a rejected payment and the new hold ends after the challan's due date, the old challan is
    cancelled (kept) and a new one with a new number is issued.
    """

    number = models.CharField(max_length=30, unique=True)
    consumer_number = models.CharField(
        max_length=18,
        unique=True,
        null=True,
        editable=False,
        help_text=_("What the payer types in a bank app or at an ATM to pay it through 1Bill."),
    )
    nomination = models.ForeignKey("registrations.Nomination", on_delete=models.PROTECT, related_name="challans")
    amount = models.PositiveIntegerField(help_text=_("Whole rupees."))
    due_date = models.DateField()
    payer_name = models.CharField(max_length=200)
    payer_cnic = models.CharField(max_length=13)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pdf = models.FileField(upload_to="challans/%Y/", blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nomination"], condition=Q(cancelled_at__isnull=True), name="challan_one_current_per_nomination"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, waiting for HEC")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class AlumniPayment(models.Model):
    """An alumnus's proof of payment: the paid challan and the final transcript.

    A rejection keeps the row with its reason; the alumnus then uploads again, which makes a new
    row. At most one proof per nomination is waiting for HEC or verified at any time.
    """

    nomination = models.ForeignKey("registrations.Nomination", on_delete=models.PROTECT, related_name="alumni_payments")
    challan = models.ForeignKey(Challan, on_delete=models.PROTECT, related_name="payments")
    # Empty when the challan was paid through 1Bill or a bank scroll: the bank's record is the proof.
    paid_challan = models.FileField(upload_to="paid-challans/%Y/", blank=True)
    transcript = models.FileField(upload_to="transcripts/%Y/")
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.SUBMITTED)
    reason = models.TextField(blank=True, help_text=_("Why HEC rejected it; sent to the alumnus."))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nomination"],
                condition=Q(status__in=["submitted", "verified"]),
                name="alumni_payment_one_open_per_nomination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challan.number} ({self.get_status_display()})"

    @property
    def is_submitted(self) -> bool:
        """Waiting for HEC's check."""
        return self.status == PaymentStatus.SUBMITTED

    @property
    def is_verified(self) -> bool:
        return self.status == PaymentStatus.VERIFIED

    @property
    def is_rejected(self) -> bool:
        return self.status == PaymentStatus.REJECTED


class Deposit(models.Model):
    """A public learner's deposit as the focal person recorded it. Never changed in place.

    A correction is a new row that `supersedes` the old one, with who and why; the current deposit
    of a nomination is the one nothing supersedes.
    """

    nomination = models.ForeignKey("registrations.Nomination", on_delete=models.PROTECT, related_name="deposits")
    amount = models.PositiveIntegerField(help_text=_("Whole rupees."))
    receipt = models.CharField(max_length=60)
    paid_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    reason = models.TextField(blank=True, help_text=_("Why this row corrects the one it supersedes."))

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nomination"], condition=Q(supersedes__isnull=True), name="deposit_one_first_per_nomination"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt} ({self.amount} rupees)"


class WaiverStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for HEC to check the certificate")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class DisabilityWaiver(models.Model):
    """The free license of a nominee on a reserved disability seat, once HEC checks the certificate."""

    nomination = models.OneToOneField(
        "registrations.Nomination", on_delete=models.PROTECT, related_name="disability_waiver"
    )
    certificate = models.FileField(
        upload_to="certificates/%Y/", blank=True, help_text=_("As uploaded with the nomination.")
    )
    status = models.CharField(max_length=10, choices=WaiverStatus.choices, default=WaiverStatus.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.nomination.full_name} ({self.get_status_display()})"

    @property
    def is_approved(self) -> bool:
        return self.status == WaiverStatus.APPROVED

    @property
    def is_rejected(self) -> bool:
        return self.status == WaiverStatus.REJECTED


class DisabilitySeat(Nomination):
    """A learner on a reserved disability seat, as HEC staff check their certificate in the admin.

    The seat is taken in registrations, which cannot write a fees row; so the waiver is written
    when HEC staff decide on it (fees.waivers.disability_seat_decide), and until then the seat
    itself is what waits for the check. No page writes anything by looking at it.
    """

    class Meta:
        proxy = True
        verbose_name = _("disability seat to check")
        verbose_name_plural = _("disability seats to check")


class InvoiceChannel(models.TextChoices):
    PERN = "pern", _("PERN billing")
    SEPARATE = "separate", _("Separate invoice")


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued, not paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Invoice(models.Model):
    """A private university's lump sum for a phase: allocated licenses × the phase's fee. When its
    licenses rise later, a supplementary invoice bills the difference; a fall refunds nothing by
    itself (the ledger shows the credit)."""

    phase = models.ForeignKey("quotas.Phase", on_delete=models.PROTECT, related_name="invoices")
    university = models.ForeignKey("quotas.University", on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=30, unique=True)
    consumer_number = models.CharField(
        max_length=18,
        unique=True,
        null=True,
        editable=False,
        help_text=_("What the university types in a bank app to pay it through 1Bill."),
    )
    licenses = models.PositiveIntegerField()
    unit_fee = models.PositiveIntegerField(help_text=_("Whole rupees per license."))
    amount = models.PositiveIntegerField(help_text=_("Whole rupees: licenses × fee per license."))
    channel = models.CharField(max_length=10, choices=InvoiceChannel.choices)
    pern_account = models.CharField(max_length=50, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pdf = models.FileField(upload_to="invoices/%Y/", blank=True)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED)
    paid_at = models.DateTimeField(null=True, blank=True)
    marked_paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(max_length=100, blank=True, help_text=_("The bank or PERN reference of the payment."))
    supplements = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supplementary_invoices",
        help_text=_(
            "A supplementary invoice bills the licenses a private university received after its first invoice "
            "(a license move or a new allocation), for the difference only."
        ),
    )

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number


# --- Bills paid through the banks: 1Bill, bank scrolls -------------------------------------------


class Remittance(models.Model):
    """A university's statement of the forfeited deposits it holds and pays on to HEC, payable by
    its own consumer number. A later statement covers only the forfeits no earlier one did."""

    phase = models.ForeignKey("quotas.Phase", on_delete=models.PROTECT, related_name="remittances")
    university = models.ForeignKey("quotas.University", on_delete=models.PROTECT, related_name="remittances")
    number = models.CharField(max_length=30, unique=True)
    consumer_number = models.CharField(max_length=18, unique=True)
    amount = models.PositiveIntegerField(help_text=_("Whole rupees: the forfeited deposits it covers."))
    decisions = models.JSONField(default=list, help_text=_("The forfeit decisions it covers (their ids)."))
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pdf = models.FileField(upload_to="remittances/%Y/", blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number


class PaymentChannel(models.TextChoices):
    ONEBILL = "1bill", _("1Bill")
    SCROLL = "scroll", _("Bank scroll")


class BillPayment(models.Model):
    """A payment the bank network or a bank's scroll reported for one bill (a challan or an
    invoice), posted once: a bill has at most one, and a repeat of the same transaction is refused."""

    consumer_number = models.CharField(max_length=18)
    challan = models.OneToOneField(
        Challan, null=True, blank=True, on_delete=models.PROTECT, related_name="bill_payment"
    )
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="bill_payment"
    )
    remittance = models.OneToOneField(
        Remittance, null=True, blank=True, on_delete=models.PROTECT, related_name="bill_payment"
    )
    channel = models.CharField(max_length=10, choices=PaymentChannel.choices)
    amount = models.PositiveIntegerField(help_text=_("Whole rupees."))
    bank_mnemonic = models.CharField(max_length=20, blank=True)
    tran_auth_id = models.CharField(max_length=20, blank=True)
    paid_at = models.DateTimeField(help_text=_("When the bank says it was paid."))
    posted_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scroll = models.ForeignKey("BankScroll", null=True, blank=True, on_delete=models.PROTECT, related_name="payments")

    class Meta:
        ordering = ["-posted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(challan__isnull=False, invoice__isnull=True, remittance__isnull=True)
                    | Q(challan__isnull=True, invoice__isnull=False, remittance__isnull=True)
                    | Q(challan__isnull=True, invoice__isnull=True, remittance__isnull=False)
                ),
                name="bill_payment_one_of_three",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consumer_number} {self.bank_mnemonic} {self.tran_auth_id}"


class OneBillLog(models.Model):
    """Every request the bank network made to the biller API, with the portal's answer."""

    class Endpoint(models.TextChoices):
        INQUIRY = "inquiry", _("Bill inquiry")
        PAYMENT = "payment", _("Bill payment")

    endpoint = models.CharField(max_length=10, choices=Endpoint.choices)
    consumer_number = models.CharField(max_length=40, blank=True, db_index=True)
    bank_mnemonic = models.CharField(max_length=40, blank=True)
    tran_auth_id = models.CharField(max_length=40, blank=True)
    response_code = models.CharField(max_length=2, blank=True)
    request = models.JSONField(default=dict)
    response = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("1Bill request")
        verbose_name_plural = _("1Bill requests")

    def __str__(self) -> str:
        return f"{self.get_endpoint_display()} {self.consumer_number} → {self.response_code}"


class BankScroll(models.Model):
    """A bank's list of the bills it collected (its scroll), as imported, with what became of it."""

    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="bank-scrolls/%Y/", blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.imported_at:%Y-%m-%d %H:%M})"


class ScrollRowState(models.TextChoices):
    OPEN = "open", _("Waiting for HEC")
    MATCHED = "matched", _("Matched to a bill by HEC")
    DISMISSED = "dismissed", _("Dismissed by HEC")


class UnmatchedScrollRow(models.Model):
    """A scroll row that could not be posted by itself (no such bill, a different amount, a
    blocked bill), waiting for HEC staff to match it to a bill or dismiss it, with a reason."""

    scroll = models.ForeignKey(BankScroll, on_delete=models.PROTECT, related_name="unmatched_rows")
    row_number = models.PositiveIntegerField()
    consumer_number = models.CharField(max_length=40, blank=True)
    amount = models.CharField(max_length=40, blank=True, help_text=_("As written in the scroll."))
    paid_on = models.DateField(null=True, blank=True)
    tran_auth_id = models.CharField(max_length=40, blank=True)
    bank = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=ScrollRowState.choices, default=ScrollRowState.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, help_text=_("Why HEC matched or dismissed it."))
    payment = models.ForeignKey(BillPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["scroll", "row_number"]

    def __str__(self) -> str:
        return f"{self.scroll.filename} row {self.row_number}: {self.reason}"


# --- Completions and refunds (Coursera completion reports → refund-or-forfeit decisions) ----------


class CompletionImport(models.Model):
    """One Coursera completion report as imported, with what became of its rows.

    Uploaded reports are imported by a worker in chunks (fees.completions): `processed` grows
    towards `rows` while `state` is QUEUED or RUNNING, and the other counters grow with it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Stopped")

    phase = models.ForeignKey("quotas.Phase", on_delete=models.PROTECT, related_name="completion_imports")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255)
    rows = models.PositiveIntegerField(default=0, help_text=_("Rows of data in the file."))
    matched = models.PositiveIntegerField(default=0, help_text=_("Rows that matched a learner of the phase."))
    unmatched = models.PositiveIntegerField(default=0, help_text=_("Rows that matched nobody (listed below)."))
    new_completions = models.PositiveIntegerField(
        default=0, help_text=_("Courses recorded as completed for the first time.")
    )
    duplicates = models.PositiveIntegerField(
        default=0, help_text=_("Completed courses already known (from an earlier report or earlier in this file).")
    )
    ignored = models.PositiveIntegerField(
        default=0, help_text=_("Matched rows that are not a completion (not completed, no time, unreadable time).")
    )
    # DONE by default: the reports imported before imports ran in the background were complete.
    state = models.CharField(max_length=10, choices=State.choices, default=State.DONE)
    processed = models.PositiveIntegerField(default=0, help_text=_("Rows of data imported so far."))
    file = models.FileField(upload_to="completion-reports/%Y/", blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text=_("Why the import stopped, when it did."))
    unknown_types = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "Rows per “Course Type” the portal does not know: recorded, but not counted toward a refund "
            "(only courses count)."
        ),
    )

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.imported_at:%Y-%m-%d %H:%M})"

    @property
    def in_progress(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def queued(self) -> bool:
        return self.state == self.State.QUEUED

    @property
    def running(self) -> bool:
        return self.state == self.State.RUNNING

    @property
    def done(self) -> bool:
        """Every row of the report was imported."""
        return self.state == self.State.DONE

    @property
    def failed(self) -> bool:
        """The import stopped before the end of the report."""
        return self.state == self.State.FAILED

    @property
    def percent(self) -> int:
        """Whole per cent of the rows imported, rounded down so that 100 means finished."""
        return self.processed * 100 // self.rows if self.rows else 100


class UnmatchedCompletionRow(models.Model):
    """A row of a completion report that was not recorded, and why: reported, never dropped silently."""

    completion_import = models.ForeignKey(CompletionImport, on_delete=models.PROTECT, related_name="unmatched_rows")
    row_number = models.PositiveIntegerField()
    email = models.CharField(max_length=254, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    course = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["completion_import", "row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"


class CourseCompletion(models.Model):
    """A course a learner completed, once per (learner, course) however many report rows say so.

    The course is keyed by Coursera's course slug, or by its name when the slug is blank.
    `completed_on` is the day of `completed_at` in the portal's time zone: the license year is
    counted in whole days from activation.
    """

    nomination = models.ForeignKey(
        "registrations.Nomination", on_delete=models.PROTECT, related_name="course_completions"
    )
    course_key = models.CharField(max_length=255)
    course_name = models.CharField(max_length=255)
    course_type = models.CharField(max_length=100, blank=True)
    completed_at = models.DateTimeField()
    completed_on = models.DateField()
    certificate_url = models.CharField(max_length=500, blank=True)
    grade = models.CharField(max_length=20, blank=True, help_text=_("The report's Course Grade, as written."))
    learning_hours = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The report's estimated learning hours of the course; empty when the report had none."),
    )
    first_seen_import = models.ForeignKey(CompletionImport, on_delete=models.PROTECT, related_name="completions")

    class Meta:
        ordering = ["nomination", "completed_at"]
        constraints = [
            models.UniqueConstraint(fields=["nomination", "course_key"], name="course_completion_once_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.course_name} ({self.completed_on})"


class RefundOutcome(models.TextChoices):
    REFUND = "refund", _("Refund due")
    FORFEIT = "forfeit", _("Forfeited to HEC")


class RefundDecision(models.Model):
    """A final refund-or-forfeit decision on a learner's deposit. Append-only.

    A decision is never changed or deleted: a correction is a new row that `supersedes` the old
    one, with who and why. The current decision of a learner is the one nothing supersedes.
    Pending cases are not stored; they are worked out from the completions when asked.
    """

    nomination = models.ForeignKey(
        "registrations.Nomination", on_delete=models.PROTECT, related_name="refund_decisions"
    )
    decision = models.CharField(max_length=10, choices=RefundOutcome.choices)
    courses_completed = models.PositiveSmallIntegerField()
    amount = models.PositiveIntegerField(help_text=_("The deposit in whole rupees."))
    as_of = models.DateField(help_text=_("The day the rule was applied for."))
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One first decision per learner; everything after it is a correction of it.
            models.UniqueConstraint(
                fields=["nomination"], condition=Q(supersedes__isnull=True), name="refund_decision_one_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.amount} rupees)"


class RefundAccount(models.Model):
    """The bank account a learner asks their refund to be paid to. A change is a new row; the
    newest is the one the payout sheet uses."""

    nomination = models.ForeignKey("registrations.Nomination", on_delete=models.PROTECT, related_name="refund_accounts")
    iban = models.CharField(max_length=24)
    account_title = models.CharField(max_length=100)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-entered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account_title} {self.iban}"


class RefundPayment(models.Model):
    """A refund paid out: the focal person's bank reference for it, from the returned payout sheet."""

    decision = models.OneToOneField(RefundDecision, on_delete=models.PROTECT, related_name="payment")
    amount = models.PositiveIntegerField(help_text=_("Whole rupees."))
    iban = models.CharField(max_length=24)
    account_title = models.CharField(max_length=100)
    paid_reference = models.CharField(max_length=100)
    paid_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.paid_reference} ({self.amount} rupees)"


class CourseraSync(models.Model):
    """One pull of Coursera's enrollment reports through its API (fees.coursera_sync), with what
    became of it: the completion import it fed, or why it stopped and what to do about it."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        BEAT = "beat", _("Scheduled")
        STAFF = "staff", _("Asked for by HEC staff")
        COMMAND = "command", _("Command line")

    phase = models.ForeignKey("quotas.Phase", on_delete=models.PROTECT, related_name="coursera_syncs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    completed_after = models.DateTimeField(
        null=True, blank=True, help_text=_("Only enrollments completed after this time were asked for.")
    )
    records = models.PositiveIntegerField(default=0, help_text=_("Enrollment records Coursera returned."))
    pages = models.PositiveIntegerField(default=0)
    completion_import = models.ForeignKey(
        CompletionImport, null=True, blank=True, on_delete=models.PROTECT, related_name="coursera_syncs"
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text=_("Why the sync stopped and what to do, when it did."))

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phase.slug} {self.started_at:%Y-%m-%d %H:%M} ({self.get_state_display()})"

    @property
    def done(self) -> bool:
        return self.state == self.State.DONE

    @property
    def failed(self) -> bool:
        """The sync stopped; `error` says why and what to do."""
        return self.state == self.State.FAILED
