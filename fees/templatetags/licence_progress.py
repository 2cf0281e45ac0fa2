"""`{% learner_progress_for nomination as progress %}`: the learner's refund progress in a template.

The learner's page includes ``fees/partials/licence_progress.html`` with the nomination in its
context; the partial asks for the numbers through this tag, so the page's view stays unchanged.
"""

from django import template
from django.utils import timezone

from fees.selectors_progress import learner_progress

register = template.Library()


@register.simple_tag
def learner_progress_for(nomination) -> dict | None:
    if nomination is None or not getattr(nomination, "pk", None):
        return None
    return learner_progress(nomination=nomination, today=timezone.localdate())
