"""Phases, universities, allocations and the seat counters that registration counts against.

This app knows no people and no money: it holds numbers. Every number of the SOP is a field of
the phase, so HEC runs the next round with other numbers without a code change.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Pool(models.TextChoices):
    PUBLIC = "public", _("Public sector universities")
    NAHE = "nahe", _("National Academy of Higher Education")
    ALUMNI = "alumni", _("Alumni (open merit)")
    PRIVATE = "private", _("Private sector universities")


# The pools whose learners pay the refundable deposit (the phase's public_deposit_rupees) to
# their focal person: public universities and NAHE, itself a public institution whose trainees
# are public-university faculty. Private universities pay HEC by invoice and alumni by challan,
# so neither has a deposit. fees records and refunds deposits and the nominations file accepts
# deposit columns by this one rule; it is here because both apps can read it.
DEPOSIT_POOLS: frozenset[str] = frozenset({Pool.PUBLIC, Pool.NAHE})


class Sector(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")
    NAHE = "nahe", _("NAHE")


class DisabilityRounding(models.TextChoices):
    UP = "up", _("Rounded up to the next whole license")
    DOWN = "down", _("Rounded down to a whole license")
    NEAREST = "nearest", _("Rounded to the nearest whole license, halves up")


class Phase(models.Model):
    """A yearly round of the programme, with every number the SOP sets for it."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    launch_date = models.DateField(
        help_text=_("The day registration opens; the alumni window is counted back from it.")
    )
    registration_opens_at = models.DateTimeField()
    registration_closes_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Leave empty to keep registration open until HEC closes it.")
    )

    total_licenses = models.PositiveIntegerField(default=24_000)
    public_pool_licenses = models.PositiveIntegerField(default=18_000)
    nahe_pool_licenses = models.PositiveIntegerField(default=1_200)
    alumni_pool_licenses = models.PositiveIntegerField(default=1_200)
    private_pool_licenses = models.PositiveIntegerField(default=3_600)
    distance_learning_licenses = models.PositiveIntegerField(
        default=1_000,
        help_text=_(
            "Part of the public pool granted as fixed numbers to distance-learning universities (AIOU 600, VU 400)."
        ),
    )
    public_min_licenses = models.PositiveIntegerField(default=70)
    public_max_licenses = models.PositiveIntegerField(default=650, null=True, blank=True)
    private_min_licenses = models.PositiveIntegerField(default=0)
    private_max_licenses = models.PositiveIntegerField(
        default=650, null=True, blank=True, help_text=_("Empty means no upper limit.")
    )
    disability_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("2.00"))
    disability_rounding = models.CharField(
        max_length=10, choices=DisabilityRounding.choices, default=DisabilityRounding.UP
    )

    public_deposit_rupees = models.PositiveIntegerField(default=4_000)
    private_fee_rupees = models.PositiveIntegerField(default=8_000)
    alumni_fee_rupees = models.PositiveIntegerField(default=8_000)
    late_fee_rupees = models.PositiveIntegerField(
        default=0,
        help_text=_("Added to a bill (invoice, remittance) paid after its due date through the banks; 0: none."),
    )

    alumni_graduated_from = models.DateField(help_text=_("Alumni must have graduated on or after this day."))
    alumni_graduated_until = models.DateField(help_text=_("…and on or before this day (the launch)."))
    payment_hold_days = models.PositiveSmallIntegerField(
        default=14, help_text=_("Days an alumni seat is held waiting for the paid challan.")
    )
    license_years = models.PositiveSmallIntegerField(
        default=1,
        help_text=_(
            "Calendar years a license lasts from activation, to the day before the same date: activated on "
            "1 March 2023, a one-year license runs to the end of 29 February 2024."
        ),
    )
    courses_for_refund = models.PositiveSmallIntegerField(default=3)
    guided_projects_count = models.BooleanField(
        default=False, help_text=_("Whether Coursera guided projects count as courses for the refund.")
    )
    reminder_days = models.CharField(
        max_length=50, default="30,7", help_text=_("Days before the license year ends when reminders go out.")
    )
    coursera_invitation_url = models.URLField(
        blank=True, help_text=_("The Coursera program invitation link sent to cleared learners.")
    )
    disability_certificate_days = models.PositiveSmallIntegerField(
        default=14,
        help_text=_(
            "Days a student nominated with a disability but without the certificate holds a reserved seat "
            "while it follows. Then the nominee moves to a general seat if one is free, else to the waiting "
            "list, and is told by e-mail."
        ),
    )
    disability_release_on = models.DateField(
        null=True,
        blank=True,
        help_text=_(
            "From this day, reserved disability seats still unused go to the general seats of their "
            "university (each release recorded). Empty: only when HEC staff release them."
        ),
    )
    join_within_days = models.PositiveSmallIntegerField(
        default=30,
        help_text=_(
            "Days after the invitation within which a learner must join the Coursera program. Reminders go "
            "out at half this time and a week before it ends; after it HEC staff may reclaim the seat for the "
            "waiting list (never automatically)."
        ),
    )
    coursera_program_id = models.CharField(
        max_length=100,
        blank=True,
        help_text=_(
            "Coursera's id of this phase's program, for the Coursera API (optional; with the API credentials set, "
            "completions are then fetched without a CSV)."
        ),
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-launch_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    total_licenses=F("public_pool_licenses")
                    + F("nahe_pool_licenses")
                    + F("alumni_pool_licenses")
                    + F("private_pool_licenses")
                ),
                name="phase_pools_add_up_to_total",
                violation_error_message=_("The four pools must add up to the total number of licenses."),
            ),
            models.CheckConstraint(
                condition=Q(alumni_graduated_from__lte=F("alumni_graduated_until")),
                name="phase_alumni_window_ordered",
                violation_error_message=_("The alumni window must start before it ends."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class University(models.Model):
    code = models.SlugField(max_length=20, unique=True, help_text=_("Short code, e.g. AIOU, VU, QAU."))
    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=10, choices=Sector.choices)
    is_distance_learning = models.BooleanField(default=False)
    distance_learning_licenses = models.PositiveIntegerField(
        default=0, help_text=_("Fixed grant for a distance-learning university; 0 for everyone else.")
    )
    enrolment = models.PositiveIntegerField(default=0)
    pern_account = models.CharField(
        max_length=50, blank=True, help_text=_("PERN billing account; empty means a separate invoice.")
    )
    city = models.CharField(max_length=80, blank=True)
    participates = models.BooleanField(
        default=True, help_text=_("Private universities take part only when they opt in.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "universities"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def pool(self) -> str:
        return self.sector  # sector names and pool names coincide for institutions

    @property
    def is_private(self) -> bool:
        """A private sector university: it pays HEC by invoice for its learners' licenses."""
        return self.sector == Sector.PRIVATE


class Allocation(models.Model):
    """One run of the allocation engine for a phase. Published ones are what registration uses."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        SUPERSEDED = "superseded", _("Superseded")

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="allocations")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pools = models.JSONField(default=dict)

    class Meta:
        ordering = ["phase", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["phase", "version"], name="allocation_version_unique"),
            models.UniqueConstraint(
                fields=["phase"], condition=Q(status="published"), name="allocation_one_published_per_phase"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phase} v{self.version} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class AllocationLine(models.Model):
    class Bound(models.TextChoices):
        """Which cap set the university's share: the allocation engine's words (quotas.allocation)."""

        PROPORTIONAL = "", _("none (in proportion)")
        MIN = "min", _("minimum")
        MAX = "max", _("maximum")
        GRANT = "grant", _("fixed distance-learning grant")

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="lines")
    university = models.ForeignKey(University, on_delete=models.PROTECT, related_name="+")
    pool = models.CharField(max_length=10, choices=Pool.choices)
    enrolment = models.PositiveIntegerField()
    exact_share = models.DecimalField(max_digits=14, decimal_places=4)
    licenses = models.PositiveIntegerField()
    disability_reserved = models.PositiveIntegerField(default=0)
    bound = models.CharField(max_length=8, blank=True)  # a Bound

    class Meta:
        ordering = ["pool", "university__name"]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "university"], name="allocation_line_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.university_id}: {self.licenses}"

    @property
    def bound_label(self) -> str:
        """The bound in words, as the allocation's page names it."""
        return dict(self.Bound.choices).get(self.bound, self.Bound.PROPORTIONAL.label)


class Quota(models.Model):
    """The live seat counter of one university (or of the national alumni pool) in a phase.

    Seats are taken with a conditional UPDATE on this row (see quotas.services), and the check
    constraints make the database itself refuse an oversubscription whatever the code does.
    General seats are `licenses - disability_reserved`; the reserved ones are only for nominees
    with a disability certificate.
    """

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="quotas")
    university = models.ForeignKey(University, null=True, blank=True, on_delete=models.PROTECT, related_name="quotas")
    pool = models.CharField(max_length=10, choices=Pool.choices)
    licenses = models.PositiveIntegerField(default=0)
    disability_reserved = models.PositiveIntegerField(default=0)
    general_seated = models.PositiveIntegerField(default=0)
    disability_seated = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["phase", "university"], name="quota_one_per_university"),
            models.UniqueConstraint(
                fields=["phase"], condition=Q(university__isnull=True), name="quota_one_alumni_pool"
            ),
            models.CheckConstraint(
                condition=Q(disability_reserved__lte=F("licenses")), name="quota_reserve_within_licenses"
            ),
            models.CheckConstraint(
                condition=Q(general_seated__lte=F("licenses") - F("disability_reserved")),
                name="quota_general_never_oversubscribed",
            ),
            models.CheckConstraint(
                condition=Q(disability_seated__lte=F("disability_reserved")),
                name="quota_disability_never_oversubscribed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phase.slug}: {self.university.code if self.university_id else 'alumni pool'}"

    @property
    def seated(self) -> int:
        return self.general_seated + self.disability_seated

    @property
    def free(self) -> int:
        return self.licenses - self.seated


class LicenseMove(models.Model):
    """Unused licenses moved from one university to another by HEC, with who, when and why."""

    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="license_moves")
    from_quota = models.ForeignKey(Quota, on_delete=models.PROTECT, related_name="moves_out")
    to_quota = models.ForeignKey(Quota, on_delete=models.PROTECT, related_name="moves_in")
    licenses = models.PositiveIntegerField()
    reason = models.TextField()
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField(auto_now_add=True)
    across_pools = models.BooleanField(
        default=False,
        help_text=_("The two universities are in different pools: the pools' totals change (an explicit action)."),
    )
    beyond_caps = models.BooleanField(
        default=False,
        help_text=_("HEC staff overrode the phase's least or most licenses per university for this move, saying why."),
    )

    class Meta:
        ordering = ["-moved_at"]
        constraints = [
            models.CheckConstraint(condition=Q(licenses__gt=0), name="license_move_positive"),
            models.CheckConstraint(condition=~Q(from_quota=F("to_quota")), name="license_move_between_two"),
        ]

    def __str__(self) -> str:
        return f"{self.licenses} licenses, quota {self.from_quota_id} → {self.to_quota_id}"
