"""The focal person's invoices: what their private university owes HEC for its licenses, with the
consumer number to pay each invoice by in any bank app (1Bill), and whether it is paid."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import Invoice
from .views import _focal


@never_cache
@login_required
@require_GET
def focal_invoices(request: HttpRequest) -> HttpResponse:
    focal = _focal(request)
    invoices = (
        Invoice.objects.filter(university=focal.university)
        .select_related("phase", "bill_payment")
        .order_by("-issued_at", "-id")
    )
    return render(request, "fees/focal_invoices.html", {"focal": focal, "invoices": invoices})
