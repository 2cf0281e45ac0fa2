"""Coursera's API, for what the portal otherwise gets from CSV files: enrollment reports (the
learners' completions, read by fees.coursera_sync) and program invitations (sent instead of the
portal's own invitation e-mail when COURSERA_API_SEND_INVITATIONS is on).

Off unless COURSERA_API_CLIENT_ID, COURSERA_API_CLIENT_SECRET and COURSERA_API_ORG_ID are set
and the phase has its Coursera program id. Plain HTTPS with the standard library:

- a token from ``POST COURSERA_API_TOKEN_URL`` (client credentials, the app's key and secret as
  HTTP basic auth), kept until shortly before it expires;
- ``GET businesses.v1/{orgId}/enrollmentReports?q=byProgramId&programId=…&completedAtAfter=…``,
  following ``paging.next`` (Coursera's ``start``) until there is none;
- ``POST businesses.v1/{orgId}/programs/{programId}/invitations`` with
  ``{externalId, fullName, email, sendEmail}``.

Every failure is a :class:`CourseraApiError` whose ``message`` says, for HEC staff, what went
wrong and what to do (401: the credentials; 403: the app is not registered for the organisation
by one of its admins; 429: Coursera is limiting requests). ``transient`` says whether trying
again later may work; a transient error is an OSError, so the invitation task retries it.
"""

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from quotas.models import Phase

PAGE_SIZE = 100
MAX_PAGES = 10_000  # a paging loop that never ends is Coursera's bug, not a reason to hang a worker
ENROLLMENT_FIELDS = (
    "externalId,email,contentId,contentType,contentName,isCompleted,completedAt,approxTotalCourseHrs,"
    "contentCertificateUrl,membershipState"
)


class CourseraApiError(OSError):
    """Coursera's API could not be used; ``message`` says what to do, ``status`` is the HTTP status."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.transient = transient


def api_missing_settings() -> list[str]:
    """The settings still to set before the API can be used (none: it is configured)."""
    wanted = ("COURSERA_API_CLIENT_ID", "COURSERA_API_CLIENT_SECRET", "COURSERA_API_ORG_ID")
    return [name for name in wanted if not getattr(settings, name, "")]


def api_configured() -> bool:
    return not api_missing_settings()


def phase_api_ready(phase: Phase) -> bool:
    """The API is configured and the phase says which Coursera program is its own."""
    return api_configured() and bool(phase.coursera_program_id.strip())


def invitations_by_api(phase: Phase) -> bool:
    return bool(settings.COURSERA_API_SEND_INVITATIONS) and phase_api_ready(phase)


def _explain(status: int, detail: str) -> CourseraApiError:
    org = settings.COURSERA_API_ORG_ID
    if status == 401:
        return CourseraApiError(
            _(
                "Coursera refused the API credentials (401 Unauthorized). Check COURSERA_API_CLIENT_ID and "
                "COURSERA_API_CLIENT_SECRET: they are the key and the secret of the app in Coursera's developer "
                "console; a secret that was reset there must be set here again."
            ),
            status=status,
        )
    if status == 403:
        return CourseraApiError(
            _(
                "Coursera refused access to organisation %(org)s (403 Forbidden): the app is not registered for it. "
                "An administrator of the Coursera organisation must authorise the app (its client id) for the "
                "organisation; then sync again."
            )
            % {"org": org},
            status=status,
        )
    if status == 429:
        return CourseraApiError(
            _(
                "Coursera is limiting requests (429 Too Many Requests). Nothing is lost: the request is made again "
                "later (the next sync asks again from the last completion recorded; an invitation is retried). If "
                "this keeps happening, sync less often (COURSERA_SYNC_EVERY_SECONDS)."
            ),
            status=status,
            transient=True,
        )
    if status == 404:
        return CourseraApiError(
            _(
                "Coursera does not know this organisation or program (404 Not Found). Check COURSERA_API_ORG_ID "
                "and the phase's Coursera program id."
            ),
            status=status,
        )
    if status >= 500:
        return CourseraApiError(
            _("Coursera's API had an error (%(status)s). It is usually temporary: the next sync tries again.")
            % {"status": status},
            status=status,
            transient=True,
        )
    return CourseraApiError(
        _("Coursera's API refused the request (%(status)s: %(detail)s).") % {"status": status, "detail": detail[:200]},
        status=status,
    )


def _call(request: urllib.request.Request) -> dict:
    """Send one request and read its JSON answer, or CourseraApiError."""
    try:
        with urllib.request.urlopen(request, timeout=settings.COURSERA_API_TIMEOUT) as response:  # noqa: S310 - https
            body = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace") if error.fp else ""
        if error.code == 401:
            forget_token()  # expired or revoked: the next call asks for a new one
        raise _explain(error.code, detail) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise CourseraApiError(
            _(
                "The portal could not reach Coursera's API (%(reason)s). Check the server's connection to the "
                "internet; the next sync tries again."
            )
            % {"reason": reason},
            transient=True,
        ) from None
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise CourseraApiError(
            _("Coursera's API answered with something that is not JSON; the next sync tries again."), transient=True
        ) from None


_token_lock = threading.Lock()
_token: dict = {}


def access_token() -> str:
    """A bearer token for the app, fetched again a minute before the last one expires."""
    key = (settings.COURSERA_API_TOKEN_URL, settings.COURSERA_API_CLIENT_ID, settings.COURSERA_API_CLIENT_SECRET)
    with _token_lock:
        if _token.get("key") == key and _token.get("expires", 0) > time.monotonic():
            return _token["value"]
    credentials = f"{settings.COURSERA_API_CLIENT_ID}:{settings.COURSERA_API_CLIENT_SECRET}".encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the configured https endpoint
        settings.COURSERA_API_TOKEN_URL,
        data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
        headers={
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    answer = _call(request)
    token = answer.get("access_token")
    if not token:
        raise CourseraApiError(_("Coursera's token endpoint gave no access token; check COURSERA_API_TOKEN_URL."))
    lifetime = int(answer.get("expires_in") or 1800)
    with _token_lock:
        _token.update(key=key, value=token, expires=time.monotonic() + max(lifetime - 60, 0))
    return token


def forget_token() -> None:
    with _token_lock:
        _token.clear()


def _url(path: str, params: dict | None = None) -> str:
    base = settings.COURSERA_API_URL.rstrip("/") + "/"
    url = urllib.parse.urljoin(base, path.lstrip("/"))
    return f"{url}?{urllib.parse.urlencode(params)}" if params else url


def _authorised(url: str, *, data: bytes | None = None, method: str = "GET") -> urllib.request.Request:
    headers = {"Authorization": f"Bearer {access_token()}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    return urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - configured https


@dataclass(frozen=True)
class Page:
    elements: list[dict]
    number: int


def enrollment_reports(*, program_id: str, completed_after_ms: int | None) -> Iterator[Page]:
    """Coursera's enrollment reports of the program, page by page, following ``paging.next``."""
    org = urllib.parse.quote(settings.COURSERA_API_ORG_ID, safe="")
    params = {"q": "byProgramId", "programId": program_id, "fields": ENROLLMENT_FIELDS, "limit": PAGE_SIZE}
    if completed_after_ms is not None:
        params["completedAtAfter"] = completed_after_ms
    start: str | None = None
    for number in range(1, MAX_PAGES + 1):
        query = {**params, **({"start": start} if start else {})}
        answer = _call(_authorised(_url(f"businesses.v1/{org}/enrollmentReports", query)))
        elements = answer.get("elements") or []
        if not isinstance(elements, list):
            raise CourseraApiError(_("Coursera's enrollment report had no list of elements."), transient=True)
        yield Page(elements=[element for element in elements if isinstance(element, dict)], number=number)
        following = (answer.get("paging") or {}).get("next")
        if following in (None, "") or str(following) == str(start):
            return
        start = str(following)
    raise CourseraApiError(_("Coursera's enrollment report did not stop paging; the next sync tries again."))


def invitation_create(*, phase: Phase, external_id: str, full_name: str, email: str) -> dict:
    """Invite a learner to the phase's Coursera program; Coursera e-mails them."""
    org = urllib.parse.quote(settings.COURSERA_API_ORG_ID, safe="")
    program = urllib.parse.quote(phase.coursera_program_id.strip(), safe="")
    body = json.dumps({"externalId": external_id, "fullName": full_name, "email": email, "sendEmail": True}).encode()
    return _call(_authorised(_url(f"businesses.v1/{org}/programs/{program}/invitations"), data=body, method="POST"))
