"""1Bill's biller API: the two endpoints the bank network calls, BillInquiry and BillPayment.

JSON in and out, field names exactly as 1LINK's generic REST shape has them. Authenticated by the
``username`` and ``password`` HTTP headers against ONEBILL_USERNAME / ONEBILL_PASSWORD: while those
are unset the endpoints do not exist (404); wrong or missing credentials get 401 and nothing is
read or changed. Every authenticated request is kept with its answer (fees.models.OneBillLog).
"""

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import PortalError
from core.middleware import allows_body_up_to

from . import bills, onebill
from .models import OneBillLog, PaymentChannel

MAX_BODY_BYTES = 4096
LOGGED_FIELDS = ("consumer_number", "bank_mnemonic", "tran_auth_id")


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """404 while the API is not configured, 401 for wrong credentials, 405 for anything but POST."""
    username, password = settings.ONEBILL_USERNAME, settings.ONEBILL_PASSWORD
    if not (username and password):
        raise Http404
    given_user = request.headers.get("username", "")
    given_password = request.headers.get("password", "")
    # Both compared, always: the time taken says nothing about which one was wrong.
    user_ok = constant_time_compare(given_user, username)
    password_ok = constant_time_compare(given_password, password)
    if not (user_ok and password_ok):
        return HttpResponse(status=401, headers={"WWW-Authenticate": 'Header realm="1bill"'})
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


def _body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _field(body: object, name: str) -> str:
    value = body.get(name, "") if isinstance(body, dict) else ""
    return value[:40] if isinstance(value, str) else ""


def _answer(request: HttpRequest, *, endpoint: str, body: object, answer: dict) -> JsonResponse:
    OneBillLog.objects.create(
        endpoint=endpoint,
        consumer_number=_field(body, "consumer_number"),
        bank_mnemonic=_field(body, "bank_mnemonic"),
        tran_auth_id=_field(body, "tran_auth_id"),
        response_code=answer["response_Code"],
        request=body if isinstance(body, dict) else {"unreadable": True},
        response=answer,
        remote_addr=request.META.get("REMOTE_ADDR") or None,
    )
    return JsonResponse(answer)


@csrf_exempt
@never_cache
@allows_body_up_to(MAX_BODY_BYTES)
def bill_inquiry(request: HttpRequest) -> HttpResponse:
    if refused := _refusal(request):
        return refused
    body = _body(request)
    try:
        number = onebill.consumer_number_read(body if isinstance(body, dict) else {})
    except onebill.Invalid:
        answer = bills.bill_inquiry(consumer_number="")
        answer["response_Code"] = onebill.INVALID
    else:
        answer = bills.bill_inquiry(consumer_number=number)
    return _answer(request, endpoint=OneBillLog.Endpoint.INQUIRY, body=body, answer=answer)


@csrf_exempt
@never_cache
@allows_body_up_to(MAX_BODY_BYTES)
def bill_payment(request: HttpRequest) -> HttpResponse:
    if refused := _refusal(request):
        return refused
    body = _body(request)
    try:
        incoming = onebill.payment_read(body)
    except onebill.Invalid:
        code, reference = onebill.INVALID, ""
    else:
        try:
            (result,) = bills.bill_payments_post(payments=[incoming], channel=PaymentChannel.ONEBILL, actor=None)
        except PortalError:
            code, reference = onebill.BLOCKED, ""
        else:
            code = result.code
            reference = result.payment.consumer_number if result.payment is not None else ""
    answer = {"response_Code": code, "Identification_parameter": reference, "reserved": ""}
    return _answer(request, endpoint=OneBillLog.Endpoint.PAYMENT, body=body, answer=answer)
