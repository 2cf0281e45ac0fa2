"""Template context every page needs: the current phase, for the header and navigation."""

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    from quotas.selectors import phase_current

    return {"current_phase": phase_current()}
