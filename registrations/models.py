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
    # Settled: the money side is done (deposit recorded, waiver approved, invoice paid, alumni
    # payment verified). Cleared: settled *and* seated; that is when the invitation goes out.
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_reason = models.CharField(max_length=200, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True, help_text=_("When the learner was cleared for an invitation."))
    activated_on = models.DateField(null=True, blank=True, help_text=_("Start of the license year."))

    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="nominations"
    )

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
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_status_display()})"

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


class Invitation(models.Model):
    """The outbox row for one learner's Coursera invitation, written with the clearing itself."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    nomination = models.OneToOneField(Nomination, on_delete=models.PROTECT, related_name="invitation")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "queued_at"])]
