"""Light pages for learners on slow mobile connections.

Each learner-facing page, as a first visit loads it (the HTML and every stylesheet, script and
image it links), gzip-compressed as it travels, stays under 60 KB; no page loads a script at all,
so every page works with JavaScript off; and in production (DEBUG=0) whitenoise serves the static
files compressed, under hashed names cached for a year.
"""

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.factories import build_world, client_for

BUDGET = 60 * 1024
LINKED = re.compile(r"""<(?:link|script|img|source)\b[^>]*?\b(?:href|src)="([^"]+)\"""", re.I)


def compressed(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def static_bytes(url: str) -> bytes:
    """A linked static file as the portal serves it (the file collectstatic would copy)."""
    assert url.startswith(settings.STATIC_URL) or url.startswith("/" + settings.STATIC_URL), url
    relative = url.split(settings.STATIC_URL.strip("/") + "/", 1)[1]
    path = finders.find(relative)
    assert path, f"{url} links a static file that does not exist"
    return Path(path).read_bytes()


def first_load(client: Client, url: str) -> tuple[str, dict[str, int]]:
    """The page's HTML and the compressed size of it and of everything it links."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    sizes = {url: compressed(response.content)}
    for linked in sorted(set(LINKED.findall(html))):
        if linked.startswith("data:"):
            continue
        assert not linked.startswith(("http://", "https://", "//")), f"{url} loads {linked} from elsewhere"
        data = static_bytes(linked)
        sizes[linked] = compressed(data)
        if linked.endswith(".css"):  # fonts the stylesheet loads, as the browser would
            for font in re.findall(r'url\("?\.\./(fonts/[^")]+)"?\)', data.decode()):
                sizes[settings.STATIC_URL + font] = len(static_bytes(settings.STATIC_URL + font))  # woff2: compressed
    return html, sizes


def learner_pages(world) -> list[tuple[str, str]]:
    newcomer = factories.make_user(email="newcomer@example.pk")
    world.users["newcomer"] = newcomer
    return [
        ("anonymous", reverse("home")),
        ("anonymous", reverse("account_login")),
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("account_request_login_code")),
        ("newcomer", reverse("registrations:alumni_register")),  # the registration form
        ("alumnus", reverse("registrations:alumni_register")),  # a registered alumnus's status
        ("alumnus", reverse("fees:my_license")),
        ("learner", reverse("fees:my_license")),
        ("focal_own", reverse("registrations:focal_dashboard")),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ur"])
def test_each_learner_facing_page_loads_under_60_kb_compressed(language):
    world = build_world()
    for role, url in learner_pages(world):
        client = client_for(world, role)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html, sizes = first_load(client, url)
        assert f'lang="{language}"' in html
        assert any(name.endswith(".css") for name in sizes), f"{url} links no stylesheet"
        total = sum(size for name, size in sizes.items() if not name.endswith(".woff2"))
        assert total < BUDGET, f"{url} ({role}, {language}) weighs {total} bytes compressed: {sizes}"
        fonts = {name: size for name, size in sizes.items() if name.endswith(".woff2")}
        if language == "en":
            assert not fonts, f"{url} loads a font in English: {fonts}"
        else:
            # The Nastaliq subset: its contextual forms make it the one thing over the budget, and a
            # phone that has Noto Nastaliq Urdu (local) downloads nothing; see css/urdu.css.
            assert list(fonts) == ["/static/fonts/nastaliq-urdu.woff2"], fonts
            assert fonts["/static/fonts/nastaliq-urdu.woff2"] < 90 * 1024


@pytest.mark.django_db
def test_no_learner_facing_page_loads_any_script():
    world = build_world()
    for role, url in learner_pages(world):
        html = client_for(world, role).get(url).content.decode()
        assert "<script" not in html.lower(), f"{url} ({role}) has a script"
        assert not re.search(r"\bon(click|submit|change|load)=", html, re.I), f"{url} ({role}) has an inline handler"


@pytest.mark.django_db
def test_the_forms_of_these_pages_submit_without_javascript():
    world = build_world()
    for role, url in learner_pages(world):
        html = client_for(world, role).get(url).content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.S):
            method = re.search(r'method="(\w+)"', form)
            assert method and method.group(1).lower() in ("get", "post"), (url, form[:80])
            assert re.search(r'<button[^>]*type="submit"|<input[^>]*type="submit"', form), (url, form[:120])


# Production: whitenoise serves compressed, long-cached static files --------------------------------

PRODUCTION_CHECK = r"""
import json, os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "dlsei.settings"
django.setup()
from django.conf import settings
from django.templatetags.static import static
from django.test import Client

client = Client()
hashed = static("css/portal.css")
answers = {"debug": settings.DEBUG, "hashed": hashed}
for encoding in ("gzip", "br", "identity"):
    r = client.get(hashed, secure=True, HTTP_ACCEPT_ENCODING=encoding)
    answers[encoding] = {
        "status": r.status_code,
        "encoding": r.headers.get("Content-Encoding", ""),
        "cache": r.headers.get("Cache-Control", ""),
        "vary": r.headers.get("Vary", ""),
        "length": len(b"".join(r.streaming_content)) if r.streaming else len(r.content),
    }
plain = client.get("/static/css/portal.css", secure=True, HTTP_ACCEPT_ENCODING="gzip")
answers["plain"] = {"status": plain.status_code, "cache": plain.headers.get("Cache-Control", "")}
print(json.dumps(answers))
"""


def test_production_serves_static_files_compressed_and_cached_for_long(tmp_path):
    import json

    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "page-weight-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver",
        "STATIC_ROOT": str(tmp_path / "static"),
        "VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("DATABASE_URL", None)  # no database is touched: whitenoise answers before any view
    run = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    collected = list((tmp_path / "static" / "css").glob("portal.*.css"))
    assert collected, "collectstatic wrote no hashed copy of portal.css"
    names = {p.name for p in (tmp_path / "static" / "css").iterdir()}
    hashed_name = next(n for n in names if re.fullmatch(r"portal\.[0-9a-f]{12}\.css", n))
    assert {hashed_name + ".gz", hashed_name + ".br"} <= names

    check = subprocess.run(
        [sys.executable, "-c", PRODUCTION_CHECK],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    answers = json.loads(check.stdout.strip().splitlines()[-1])
    assert answers["debug"] is False
    assert answers["hashed"].endswith("/" + hashed_name)  # pages link the hashed name
    original = len(Path(settings.BASE_DIR, "static", "css", "portal.css").read_bytes())
    for encoding in ("gzip", "br"):
        answer = answers[encoding]
        assert answer["status"] == 200
        assert answer["encoding"] == encoding
        assert answer["length"] < original / 2
        assert "Accept-Encoding" in answer["vary"]
        max_age = int(re.search(r"max-age=(\d+)", answer["cache"]).group(1))
        assert max_age >= 365 * 24 * 3600 and "immutable" in answer["cache"], answer["cache"]
    assert answers["identity"]["encoding"] == "" and answers["identity"]["length"] == original
    # Asked for by its plain name the file may change at the next release: cached a day, not for years.
    assert answers["plain"]["status"] == 200
    assert re.search(r"max-age=86400\b", answers["plain"]["cache"]), answers["plain"]["cache"]


@pytest.mark.django_db
def test_every_page_has_the_portals_icon(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 302 and icon["Location"] == "/static/favicon.svg"
    assert (Path(settings.BASE_DIR) / "static" / "favicon.svg").read_text().startswith("<svg")


def test_the_urdu_font_has_every_letter_the_urdu_pages_use():
    """The subset is cut from the catalogue: a letter added to a translation without rerunning
    ``python -m core.fonts`` would fall back to another font in the middle of a word."""
    from fontTools.ttLib import TTFont

    from core.fonts import TARGET, urdu_characters

    covered = set(TTFont(str(TARGET)).getBestCmap())
    missing = [ch for ch in urdu_characters() if ord(ch) not in covered and ch not in "\u200c\u200d"]
    assert missing == [], f"run python -m core.fonts: {missing}"
    assert {ord(ch) for ch in "اردو"} <= covered
    assert 'url("../fonts/nastaliq-urdu.woff2")' in Path(finders.find("css/urdu.css")).read_text()
