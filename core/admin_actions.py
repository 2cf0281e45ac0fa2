"""What every app's admin shares: one action applied to each selected row through a service, and
the base of lists whose rows only the services write.

An app's admin passes the exception class its services refuse with (``RegistrationError``, or
``PortalError`` in fees, whose services pass on the refusals of registrations), so this module
imports none of the apps.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.db.models import QuerySet
from django.http import HttpRequest


class ReadOnlyAdmin(ModelAdmin):
    """Rows written only by the services: no add, no edit, no delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def run_each(
    modeladmin: ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    call: Callable[[Any], object],
    refused: type[Exception],
    done: Callable[[int], str],
    label: Callable[[Any], str] = str,
) -> int:
    """Call one service per selected row, oldest first. Every refusal is reported with the row's
    label and the service's message, and the others still go ahead (each service call is its own
    transaction); the count of those done is said once. Returns that count."""
    count = 0
    for obj in queryset.order_by("pk"):
        try:
            call(obj)
        except refused as error:
            message = getattr(error, "message", str(error))
            modeladmin.message_user(request, f"{label(obj)}: {message}", messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, done(count) % {"count": count}, messages.SUCCESS)
    return count
