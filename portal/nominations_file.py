"""Confirming a focal person's nominations file: the nominations and their deposits in one go.

The file's rows are registrations' (``registrations.imports``: read, checked, previewed, then
committed in file order); the deposit columns of the committed rows are recorded by fees
(``fees.deposits.deposits_record``). Both happen here, in one transaction, so a deposit that
cannot be recorded refuses the whole file. The browser (`portal.views_nominations_file`) and
``manage.py import_nominations`` both confirm a file through ``nominations_file_commit``.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from fees.deposits import DepositEntry, deposits_record
from registrations.exceptions import RegistrationError
from registrations.imports import ImportReport
from registrations.imports import nominations_file_commit as registrations_file_commit
from registrations.models import Nomination, NominationStatus, NominationUpload


def _file_deposits_record(*, rows: list, actor: Any) -> None:
    """The deposit columns of a committed file's rows through ``deposits_record``, in file order.
    A row whose nominee went to the waiting list keeps its deposit for when a seat is given (the
    row says so); any other refusal refuses the file, naming the row."""
    if not rows:
        return
    waiting = dict(
        Nomination.objects.filter(
            pk__in=[row.nomination_id for row in rows], status=NominationStatus.WAITING
        ).values_list("pk", "full_name")
    )
    for row in rows:
        if row.nomination_id in waiting:
            row.errors.append(
                _("Deposit not recorded: %(name)s is on the waiting list. Record it once a seat is given.")
                % {"name": waiting[row.nomination_id]}
            )
    deposits_record(
        entries=[
            DepositEntry(nomination_id=row.nomination_id, receipt=row.deposit_receipt, paid_on=row.deposit_date,
                         row=row.row)
            for row in rows
            if row.nomination_id not in waiting
        ],
        actor=actor,
    )  # fmt: skip


def nominations_file_commit(*, upload: NominationUpload, actor: Any) -> ImportReport:
    """Commit a previewed nominations file in one transaction: the nominations (registrations'
    import, in file order), then the deposit of every committed row that carries deposit columns.
    A deposit that cannot be recorded refuses the whole file, naming the row; nothing is saved."""
    with transaction.atomic():
        locked = (
            NominationUpload.objects.select_for_update(of=("self",))
            .select_related("phase", "university")
            .get(pk=upload.pk)
        )
        if locked.committed_at is not None:
            raise RegistrationError(
                _("This file was already added on %(when)s.") % {"when": timezone.localtime(locked.committed_at)}
            )
        with locked.file.open("rb") as handle:
            data = handle.read()
        report = registrations_file_commit(
            phase=locked.phase, university=locked.university, data=data, filename=locked.original_name, actor=actor
        )
        _file_deposits_record(rows=[row for row in report.rows if row.nomination_id and row.deposit_receipt],
                              actor=actor)  # fmt: skip
        locked.committed_at = timezone.now()
        locked.result = report.as_json()
        locked.save(update_fields=["committed_at", "result"])
        audit_record(
            actor=actor,
            action="nominations_file.commit",
            target=locked,
            summary=f"Nominations file {locked.original_name} committed for {locked.university.code}",
            data={"upload": locked.pk},
        )
    upload.committed_at, upload.result = locked.committed_at, locked.result
    return report
