"""What HEC staff's menu and dashboard count: the alumni payments waiting for their review and the
bank scroll rows waiting for a decision. Only for staff, and counted only when a page shows them:
a template calls these functions when it reads them, and each counts once per request."""

from functools import cache

from django.http import HttpRequest

from core.roles import user_is_hec_staff

from .selectors import payments_waiting_count, scroll_rows_waiting_count


def staff_queues(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}

    @cache
    def payments_waiting() -> int:
        return payments_waiting_count() if user_is_hec_staff(user) else 0

    @cache
    def scroll_rows_waiting() -> int:
        return scroll_rows_waiting_count() if user_is_hec_staff(user) else 0

    return {"payments_waiting": payments_waiting, "scroll_rows_waiting": scroll_rows_waiting}
