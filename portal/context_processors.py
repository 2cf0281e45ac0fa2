"""Template context every page needs: the current phase, for the header and navigation."""

from django.http import HttpRequest

from quotas.selectors import phase_current


def portal(request: HttpRequest) -> dict:
    return {"current_phase": phase_current()}
