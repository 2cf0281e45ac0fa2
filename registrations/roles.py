"""The portal's roles, as Django groups: HEC staff, focal person, learner (who HEC staff are is
checked in core.roles)."""

from django.contrib.auth.models import Group, Permission

from core.roles import HEC_STAFF

FOCAL_PERSON = "Focal person"
LEARNER = "Learner"

# HEC staff work in the admin on everything of the programme except the audit trail's rows,
# which they may only read.
_STAFF_APPS = ["quotas", "registrations", "fees"]


def roles_ensure(*, using: str = "default") -> dict[str, Group]:
    """Create the groups (idempotent) and give HEC staff their admin permissions."""
    groups = {
        name: Group.objects.using(using).get_or_create(name=name)[0] for name in (HEC_STAFF, FOCAL_PERSON, LEARNER)
    }
    permissions = Permission.objects.using(using)
    staff_perms = permissions.filter(content_type__app_label__in=_STAFF_APPS) | permissions.filter(
        content_type__app_label="audit", codename__startswith="view_"
    )
    groups[HEC_STAFF].permissions.set(staff_perms)
    return groups


def user_is_focal_person(user) -> bool:
    return bool(user.is_authenticated and hasattr(user, "focal_person"))
