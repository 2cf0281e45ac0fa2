"""The Urdu pages' Nastaliq font, cut down to the letters the portal's Urdu text uses.

Run ``python -m core.fonts [path/to/NotoNastaliqUrdu-Regular.ttf]`` after the Urdu catalogue
gains letters it did not use before; it rewrites static/fonts/nastaliq-urdu.woff2. Debian's
fonts-noto-extra package installs the font at the default path. Every Arabic-script character of
the catalogue's translations is kept, with all the font's shaping rules: Nastaliq draws each
letter in many contextual forms, and dropping them breaks the joins. Hinting is dropped: phones
render Arabic script unhinted anyway.
"""

import sys
from pathlib import Path

SOURCE = Path("/usr/share/fonts/truetype/noto/NotoNastaliqUrdu-Regular.ttf")
BASE_DIR = Path(__file__).resolve().parent.parent
CATALOGUE = BASE_DIR / "locale" / "ur" / "LC_MESSAGES" / "django.po"
TARGET = BASE_DIR / "static" / "fonts" / "nastaliq-urdu.woff2"
# Joiners and marks the text may carry besides letters.
ALWAYS = "\u200c\u200d\u060c\u061b\u061f\u06d4"


def urdu_characters(catalogue: Path = CATALOGUE) -> str:
    """Every Arabic-script character in the catalogue's translations (msgstr lines only)."""
    found = set(ALWAYS)
    in_translation = False
    for line in catalogue.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgstr"):
            in_translation = True
        elif line.startswith(("msgid", "msgctxt", "#")) or not line.strip():
            in_translation = False
        if in_translation:
            found |= {ch for ch in line if "\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufeff"}
    return "".join(sorted(found))


def subset(source: Path = SOURCE, target: Path = TARGET) -> int:
    """Write the subset font as WOFF2; its size in bytes."""
    # Imported here: fontTools is needed only when the font is rebuilt (`python -m core.fonts`), never
    # by the portal while it serves pages.
    from fontTools import subset as fonttools_subset

    options = fonttools_subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.hinting = False
    options.name_IDs = [0, 1, 2, 13, 14]  # copyright, family, style and the licence (OFL) travel with it
    font = fonttools_subset.load_font(str(source), options)
    subsetter = fonttools_subset.Subsetter(options)
    subsetter.populate(text=urdu_characters())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    fonttools_subset.save_font(font, str(target), options)
    return target.stat().st_size


if __name__ == "__main__":
    size = subset(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
    print(f"{TARGET.relative_to(BASE_DIR)}: {size:,} bytes")
