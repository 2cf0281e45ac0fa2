"""Writing the audit trail. Every write service calls `audit_record` inside its transaction."""

from typing import Any

from django.db import models

from .models import AuditEntry


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
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else target_type,
        target_id=str(target.pk) if target is not None else "",
        summary=summary[:500],
        data=data or {},
    )
