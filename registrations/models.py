"""People and seats: focal persons, nominations (students, faculty, alumni), invitations.

A nomination is never deleted: withdrawal, rejection and an expired alumni hold are statuses, so
the history of who held which seat stays.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from quotas.models import Phase, Pool, Quota, University


class FocalPerson(models.Model):
    """The one account a university acts through; created by HEC staff, never by sign-up."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="focal_person")
    university = models.ForeignKey(University, on_delete=models.PROTECT, related_name="focal_persons")
    phone = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.email} — {self.university.code}"


class Disclaimer(models.Model):
    """The signed disclaimer form a university uploads before it may nominate anyone."""

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="+")
    university = models.ForeignKey(University, on_delete=models.PROTECT, related_name="disclaimers")
    file = models.FileField(upload_to="disclaimers/%Y/")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"Disclaimer of {self.university_id} for phase {self.phase_id}"


class Role(models.TextChoices):
    STUDENT = "student", _("Student")
    FACULTY = "faculty", _("Faculty")
    ALUMNUS = "alumnus", _("Alumnus")


class NominationStatus(models.TextChoices):
    SEATED = "seated", _("Seated")
    WAITING = "waiting", _("On the waiting list")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Payment hold expired")
    # HEC took the seat back for the waiting list: the learner never joined the Coursera program
    # within the phase's join_within_days of the invitation (registrations.reclaim).
    RECLAIMED = "reclaimed", _("Seat reclaimed (never joined Coursera)")


ACTIVE_STATUSES = [NominationStatus.SEATED, NominationStatus.WAITING]


class SeatKind(models.TextChoices):
    GENERAL = "general", _("General seat")
    DISABILITY = "disability", _("Reserved seat (disability)")


class Nomination(models.Model):
    """One person's claim to a license in a phase, through a university or the alumni pool."""

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="nominations")
    quota = models.ForeignKey(Quota, on_delete=models.PROTECT, related_name="nominations")
    university = models.ForeignKey(
        University, null=True, blank=True, on_delete=models.PROTECT, related_name="nominations"
    )
    pool = models.CharField(max_length=10, choices=Pool.choices)
    role = models.CharField(max_length=10, choices=Role.choices)

    full_name = models.CharField(max_length=200)
    cnic = models.CharField(max_length=13, help_text=_("13 digits, stored without dashes."))
    email = models.EmailField(help_text=_("Stored in lower case."))
    phone = models.CharField(max_length=30, blank=True)
    programme_years = models.PositiveSmallIntegerField(null=True, blank=True)
    disability = models.BooleanField(default=False)
    disability_certificate = models.FileField(upload_to="certificates/%Y/", blank=True)
    certificate_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "A student on a reserved disability seat without the certificate holds it until then; "
            "after it, a general seat if one is free, else the waiting list."
        ),
    )

    # Alumni only.
    degree = models.CharField(max_length=200, blank=True)
    graduated_from = models.CharField(max_length=200, blank=True, help_text=_("University the alumnus graduated from."))
    graduation_date = models.DateField(null=True, blank=True)
    transcript = models.FileField(upload_to="transcripts/%Y/", blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=10, choices=NominationStatus.choices)
    seat_kind = models.CharField(max_length=10, choices=SeatKind.choices, blank=True)
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    seated_at = models.DateTimeField(null=True, blank=True)
    # Place in the waiting list: empty means the arrival order (the id); a reinstated nomination
    # gets a number after every id so far, i.e. it joins the end of the list as a new arrival.
    queue_number = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    # Settled: the money side is done (deposit recorded, waiver approved, invoice paid, alumni
    # payment verified). Cleared: settled *and* seated; that is when the invitation goes out.
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_reason = models.CharField(max_length=200, blank=True)
    cleared_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the learner was cleared for an invitation.")
    )
    activated_on = models.DateField(null=True, blank=True, help_text=_("Start of the license year."))
    joined_on = models.DateField(
        null=True,
        blank=True,
        help_text=_("When the learner joined the Coursera program (membership report's Join Date, or the API)."),
    )

    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # No account here: a nomination is about a person, and an account sees it only through an
    # e-mail address it has verified (registrations.accounts).

    class Meta:
        ordering = ["id"]
        constraints = [
            # One license per person per phase, whichever university or pool tried first.
            models.UniqueConstraint(
                fields=["phase", "cnic"], condition=Q(status__in=ACTIVE_STATUSES), name="nomination_one_per_cnic"
            ),
            models.UniqueConstraint(
                fields=["phase", "email"], condition=Q(status__in=ACTIVE_STATUSES), name="nomination_one_per_email"
            ),
            models.CheckConstraint(
                condition=Q(status="seated", seat_kind__in=["general", "disability"])
                | (~Q(status="seated") & Q(seat_kind="")),
                name="nomination_seat_kind_matches_status",
            ),
        ]
        indexes = [
            models.Index(fields=["quota", "status", "id"], name="nomination_waiting_list"),
            models.Index(fields=["phase", "email"], name="nomination_email"),
            # An account's nominations, found by its verified addresses in any phase.
            models.Index(fields=["email"], name="nomination_email_any_phase"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_status_display()})"

    # What templates ask of a nomination, read from its fields (the values are NominationStatus's
    # and SeatKind's, so a template never spells one).
    @property
    def is_seated(self) -> bool:
        return self.status == NominationStatus.SEATED

    @property
    def is_waiting(self) -> bool:
        return self.status == NominationStatus.WAITING

    @property
    def holds_disability_seat(self) -> bool:
        """On a seat reserved for a learner with a disability (free once HEC checks the certificate)."""
        return self.seat_kind == SeatKind.DISABILITY

    @property
    def learner_id_external(self) -> str:
        """The id Coursera carries as `External Id`, matching completion reports back to us."""
        return f"DLSEI-{self.phase_id}-{self.pk}"


class NominationUpload(models.Model):
    """A nominations file between its preview and its confirmation (kept afterwards as a record)."""

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="+")
    university = models.ForeignKey(University, on_delete=models.PROTECT, related_name="nomination_uploads")
    file = models.FileField(upload_to="nomination-files/%Y/")
    original_name = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.original_name


class Invitation(models.Model):
    """The outbox row for one learner's Coursera invitation, written with the clearing itself.

    States: QUEUED (a task is on its way) → SENDING (a worker holds the lease since
    `sending_since`) → SENT; a refused or failed send goes to RETRYING (a retry task is due at
    `retry_at`) and, after the last retry, to FAILED, from which only a staff resend queues it
    again. The flow and its crash windows are explained in registrations/tasks.py.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Waiting to retry")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    nomination = models.OneToOneField(Nomination, on_delete=models.PROTECT, related_name="invitation")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0, help_text=_("Conversations with the mail server so far."))
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a send task was last put on the queue for this invitation.")
    )
    sending_since = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.EmailField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.nomination.email} ({self.get_state_display()})"


class InvitationAttempt(models.Model):
    """One try at sending an invitation: the first send, a retry, a recovery after a crash, or a
    resend asked for by HEC staff (who and when). Never deleted."""

    class Kind(models.TextChoices):
        FIRST = "first", _("First send")
        RETRY = "retry", _("Automatic retry")
        RECOVERY = "recovery", _("Recovery after an interrupted send")
        RESEND = "resend", _("Resend by staff")

    class Outcome(models.TextChoices):
        REQUESTED = "requested", _("Requested, waiting for a worker")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted (the worker stopped)")

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="attempt_rows")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["invitation", "outcome"], name="invitation_attempt_outcome")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class ReminderSent(models.Model):
    """A license-year reminder, written in the same transaction as the decision to send it: at
    most one per nomination and number of days before the end."""

    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    license_ends_on = models.DateField()
    decided_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(fields=["nomination", "days_before"], name="reminder_once_per_nomination_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.nomination.email}: {self.days_before} days before {self.license_ends_on}"


class UniversitySettlement(models.Model):
    """A private university's invoices for a phase are paid for ``licenses`` licenses: that many of
    its nominees are settled, in seat order, including those seated later; nominees above the paid
    count wait for the next (supplementary) invoice to be paid."""

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="+")
    university = models.ForeignKey(University, on_delete=models.PROTECT, related_name="settlements")
    settled_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200)
    licenses = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Licenses paid for so far; empty: every nominee (before counts were kept).")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-settled_at"]
        constraints = [
            models.UniqueConstraint(fields=["phase", "university"], name="university_settlement_once_per_phase")
        ]

    def __str__(self) -> str:
        return f"{self.university.code} {self.phase.slug}: {self.reason}"


class JoinReminder(models.Model):
    """A reminder to join the Coursera program, decided once per nomination and kind, in the
    same transaction as the decision (registrations.reclaim); e-mailed after that commits."""

    class Kind(models.TextChoices):
        HALFWAY = "halfway", _("Half the time to join has passed")
        LAST_WEEK = "last_week", _("A week left to join")

    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="join_reminders")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    join_by = models.DateField(help_text=_("The last day to join the Coursera program."))
    decided_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["nomination", "kind"], name="join_reminder_once_per_nomination_and_kind")
        ]

    def __str__(self) -> str:
        return f"{self.nomination.email}: {self.get_kind_display()} (join by {self.join_by})"
