"""The Urdu catalogue and the pages as a reader meets them, for the tests that look for English left
untranslated (tests/dlsei/test_i18n.py, tests/portal/test_dashboard.py)."""

import json
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR, "locale", "ur", "LC_MESSAGES", "django.po")


# A tiny .po reader -------------------------------------------------------------------------------


def po_entries(path: Path = PO) -> list[dict]:
    """Every entry of a .po file: msgctxt, msgid, msgid_plural, msgstr (or msgstr[n]) and flags."""
    entries: list[dict] = []
    entry: dict = {}
    key = ""
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {}, ""
            continue
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += _unquote(line)
        else:
            key, _space, value = line.partition(" ")
            entry[key] = _unquote(value)
    return entries


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return json.loads(text)


# The language switch names each language in itself ("English", "اردو") so a reader finds theirs.
NAMED_IN_ITSELF = {"English"}


def translated() -> dict[str, str]:
    """English msgid → Urdu msgstr for the entries whose Urdu differs from the English."""
    pairs = {}
    for entry in po_entries():
        if entry["msgid"] in NAMED_IN_ITSELF:
            continue
        if entry["msgid"] and "msgid_plural" not in entry and entry["msgstr"] != entry["msgid"]:
            pairs[" ".join(entry["msgid"].split())] = entry["msgstr"]
    return pairs


class _Text(HTMLParser):
    """The text a reader meets: text nodes and the attributes screen readers speak."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "alt", "placeholder") and value:
                self.texts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [" ".join(t.split()).rstrip(":").strip() for t in parser.texts]
