"""Write operations of the quotas app: phases and universities."""

import datetime
import io

import tablib
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record

from .exceptions import QuotaError
from .models import Phase
from .resources import UNIVERSITY_COLUMNS, UniversityResource


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@transaction.atomic
def phase_create(*, slug: str, launch: datetime.date, name: str = "", actor=None) -> Phase:
    """A new phase with the SOP's default numbers; registration opens at the start of launch day."""
    if Phase.objects.filter(slug=slug).exists():
        raise QuotaError(_("A phase called “%(slug)s” already exists.") % {"slug": slug})
    opens_at = timezone.make_aware(datetime.datetime.combine(launch, datetime.time.min))
    phase = Phase.objects.create(
        slug=slug,
        name=name or _("DLSEI phase %(slug)s") % {"slug": slug},
        launch_date=launch,
        registration_opens_at=opens_at,
        alumni_graduated_from=_years_before(launch, 2),
        alumni_graduated_until=launch,
    )
    audit_record(actor=actor, action="phase.create", target=phase, summary=f"Phase {slug} created, launch {launch}")
    return phase


def universities_import(*, data: bytes, actor=None, dry_run: bool = False) -> dict[str, int]:
    """Create or update universities by code from a CSV; a bad file changes nothing.

    Returns counts of new, updated and unchanged rows. Raises QuotaError listing every bad row.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuotaError(_("The file is not UTF-8 text. In Excel use “Save as → CSV UTF-8”.")) from None
    dataset = tablib.Dataset()
    try:
        dataset.load(io.StringIO(text), format="csv")
    except Exception:
        raise QuotaError(_("The file could not be read as CSV.")) from None
    headers = [h.strip().lower() for h in (dataset.headers or [])]
    missing = [c for c in UNIVERSITY_COLUMNS if c not in headers]
    if missing:
        raise QuotaError(_("The file is missing the columns: %(columns)s.") % {"columns": ", ".join(missing)})
    dataset.headers = headers
    if not len(dataset):
        raise QuotaError(_("The file has no universities in it."))

    with transaction.atomic():
        result = UniversityResource().import_data(dataset, dry_run=True, raise_errors=False)
        problems = [
            _("row %(row)s: %(error)s") % {"row": number + 1, "error": error.error}
            for number, errors in result.row_errors()
            for error in errors
        ]
        for invalid in result.invalid_rows:
            details = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in invalid.error_dict.items())
            problems.append(_("row %(row)s: %(error)s") % {"row": invalid.number + 1, "error": details})
        if problems:
            raise QuotaError(_("Nothing was imported. ") + " ".join(problems))
        if not dry_run:
            result = UniversityResource().import_data(dataset, dry_run=False, raise_errors=True)
            audit_record(
                actor=actor,
                action="university.import",
                target_type="quotas.university",
                summary=f"Universities imported: {result.totals}",
            )
    return {"new": result.totals["new"], "updated": result.totals["update"], "unchanged": result.totals["skip"]}
