"""Reads of phases and universities."""

from django.db.models import QuerySet
from django.utils import timezone

from .models import Phase, University


def phase_current() -> Phase | None:
    """The phase whose registration has opened most recently (the one people act in now)."""
    return Phase.objects.filter(registration_opens_at__lte=timezone.now()).order_by("-registration_opens_at").first() or (
        Phase.objects.order_by("registration_opens_at").first()
    )


def phase_get(*, slug: str) -> Phase:
    return Phase.objects.get(slug=slug)


def universities_in_pool(*, sector: str) -> QuerySet[University]:
    return University.objects.filter(sector=sector).order_by("code")
