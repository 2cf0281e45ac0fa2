"""A small local fake of Coursera's API for tests: a real HTTP server on 127.0.0.1 (a thread of
the test process), so the portal's client goes through sockets, headers, status codes and JSON
exactly as with Coursera, and no request leaves the machine.

It answers what the portal uses:

- ``POST /oauth2/client_credentials/token`` (HTTP basic auth with the app's key and secret;
  401 for wrong ones);
- ``GET /api/businesses.v1/{orgId}/enrollmentReports?q=byProgramId&programId=…&completedAtAfter=…``
  with ``start``/``limit`` paging and ``paging.next`` (403 for an organisation the app is not
  registered for, 404 for another program);
- ``POST /api/businesses.v1/{orgId}/programs/{programId}/invitations``.

    with FakeCoursera(enrollments=[...], page_size=2) as coursera:
        coursera.settings(settings)          # points the portal at it, with valid credentials
        coursera.fail_next(429)              # the next API answer (after the token) is a 429
        ...
        coursera.requests                    # every request, in order: (method, path, query, body)
"""

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID, CLIENT_SECRET, ORG_ID, PROGRAM_ID = "dlsei-app", "s3cret", "org-hec", "program-dlsei"
TOKEN = "token-abc"


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's signature
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body: bytes = b"") -> tuple[str, dict]:
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        with self.server.fake.lock:
            self.server.fake.requests.append((self.command, parsed.path, query, body.decode()))
        return parsed.path, query

    def _forced_failure(self) -> bool:
        fake = self.server.fake
        with fake.lock:
            status = fake.failures.pop(0) if fake.failures else None
        if status is None:
            return False
        self._answer(status, {"errorCode": "Forced", "message": f"fake failure {status}"})
        return True

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"errorCode": "Unauthorized", "message": "bad token"})
            return False
        return True

    def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _query = self._record(body)
        fake = self.server.fake
        if path == "/oauth2/client_credentials/token":
            expected = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if (
                self.headers.get("Authorization") != f"Basic {expected}"
                or form.get("grant_type") != "client_credentials"
            ):
                self._answer(401, {"errorCode": "invalid_client", "message": "Client authentication failed"})
                return
            self._answer(200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 1800})
            return
        if self._forced_failure() or not self._authorised():
            return
        parts = path.strip("/").split("/")  # api, businesses.v1, org, programs, program, invitations
        if (
            len(parts) == 6
            and parts[:2] == ["api", "businesses.v1"]
            and parts[3] == "programs"
            and parts[5] == "invitations"
        ):
            if parts[2] != fake.org_id:
                self._answer(403, {"errorCode": "Forbidden", "message": "app not registered for org"})
                return
            invitation = json.loads(body or b"{}")
            with fake.lock:
                fake.invitations.append({"programId": parts[4], **invitation})
            self._answer(201, {"elements": [{"id": f"inv-{len(fake.invitations)}", **invitation}]})
            return
        self._answer(404, {"errorCode": "NotFound"})

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
        path, query = self._record()
        fake = self.server.fake
        if self._forced_failure() or not self._authorised():
            return
        parts = path.strip("/").split("/")
        if parts[:2] != ["api", "businesses.v1"] or len(parts) != 4 or parts[3] != "enrollmentReports":
            self._answer(404, {"errorCode": "NotFound"})
            return
        if parts[2] != fake.org_id:
            self._answer(403, {"errorCode": "Forbidden", "message": "app not registered for org"})
            return
        if query.get("q") != "byProgramId" or query.get("programId") != fake.program_id:
            self._answer(404, {"errorCode": "NotFound", "message": "no such program"})
            return
        after = int(query.get("completedAtAfter", 0))
        with fake.lock:
            matching = [e for e in fake.enrollments if not e.get("completedAt") or int(e["completedAt"]) > after]
        start = int(query.get("start", 0))
        limit = min(int(query.get("limit", fake.page_size)), fake.page_size)
        with fake.lock:
            failure = fake.page_failures.pop(start // fake.page_size + 1, None)
        if failure is not None:
            self._answer(failure, {"errorCode": "Forced", "message": f"fake failure {failure}"})
            return
        page = matching[start : start + limit]
        paging = {"total": len(matching)}
        if start + limit < len(matching):
            paging["next"] = str(start + limit)
        self._answer(200, {"elements": page, "paging": paging, "linked": {}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeCoursera"


class FakeCoursera:
    def __init__(self, *, enrollments: list[dict] | None = None, page_size: int = 100):
        self.enrollments = list(enrollments or [])
        self.page_size = page_size
        self.client_id, self.client_secret, self.org_id, self.program_id = CLIENT_ID, CLIENT_SECRET, ORG_ID, PROGRAM_ID
        self.requests: list[tuple[str, str, dict, str]] = []
        self.invitations: list[dict] = []
        self.failures: list[int] = []
        self.page_failures: dict[int, int] = {}  # page number -> status, answered once
        self.lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, *statuses: int) -> None:
        """The next API answers (not the token's) are these statuses, in order."""
        with self.lock:
            self.failures.extend(statuses)

    def fail_page(self, number: int, status: int) -> None:
        """The enrollment report's page ``number`` (1 is the first) answers ``status``, once."""
        with self.lock:
            self.page_failures[number] = status

    def api_requests(self, method: str = "GET") -> list[tuple[str, str, dict, str]]:
        return [r for r in self.requests if r[0] == method and not r[1].startswith("/oauth2/")]

    def settings(self, settings, *, invitations: bool = False) -> None:
        """Point the portal at this fake with the app's credentials (pytest-django's ``settings``)."""
        from registrations.coursera_api import forget_token

        settings.COURSERA_API_URL = f"{self.url}/api/"
        settings.COURSERA_API_TOKEN_URL = f"{self.url}/oauth2/client_credentials/token"
        settings.COURSERA_API_CLIENT_ID = self.client_id
        settings.COURSERA_API_CLIENT_SECRET = self.client_secret
        settings.COURSERA_API_ORG_ID = self.org_id
        settings.COURSERA_API_TIMEOUT = 5
        settings.COURSERA_API_SEND_INVITATIONS = invitations
        forget_token()

    def __enter__(self) -> "FakeCoursera":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-coursera", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        from registrations.coursera_api import forget_token

        forget_token()
