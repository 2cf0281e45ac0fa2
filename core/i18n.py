"""One tiny translation hook for modules that must also work before Django is configured.

The pure helpers (CNIC checks, amounts in words, upload and spreadsheet checks) run in
management commands, in tests without settings and inside requests. They mark their
messages with ``_("...")`` (imported as ``from core.i18n import tr as _``) so that
``makemessages`` finds them, and this function translates only when Django is ready to.
"""

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext


def tr(message: str) -> str:
    """Translate ``message`` with Django's gettext when settings and apps are ready, else return it."""
    if not (settings.configured and apps.apps_ready):
        return message
    return gettext(message)
