"""Writing the audit trail. Every write service calls `audit_record` inside its transaction."""

from collections.abc import Iterable
from typing import Any

from django.db import models

from .models import AuditEntry


def _entry(*, actor: Any, action: str, target_type: str, target_id: str, summary: str, data: dict | None) -> AuditEntry:
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        summary=summary[:500],
        data=data or {},
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    summary: str,
    data: dict | None = None,
) -> AuditEntry:
    """Record one state change. `actor` is a user, or None for the system (beat, workers).

    `target` is the row that changed; a change to many rows at once names only `target_type`.
    """
    entry = _entry(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower if target is not None else target_type,
        target_id=str(target.pk) if target is not None else "",
        summary=summary,
        data=data,
    )
    entry.save()
    return entry


def audit_records(
    *,
    actor: Any,
    action: str,
    entries: Iterable[tuple[models.Model | int, str, dict]],
    target_type: str = "",
    batch_size: int = 5000,
) -> None:
    """`audit_record` for many rows in one insert: (target, summary, data) each.

    A target may be a bare primary key with `target_type` naming its model: settling 24,000
    learners should not build 24,000 model instances only to name them."""
    AuditEntry.objects.bulk_create(
        [
            _entry(
                actor=actor,
                action=action,
                target_type=target._meta.label_lower if isinstance(target, models.Model) else target_type,
                target_id=str(target.pk if isinstance(target, models.Model) else target),
                summary=summary,
                data=data,
            )
            for target, summary, data in entries
        ],
        batch_size=batch_size,
    )
