"""PLT-3: every user-facing string has a Chinese translation, and the compiled catalogue is current.

To add new strings to the catalogue, from the repository root:

    cd kestrel && ../.venv/bin/python ../manage.py makemessages -l zh_Hans \\
        --ignore "web/static/*" --no-wrap --add-location file --no-obsolete
    # translate the new entries in django.po, then compile it:
    cd kestrel/locale/zh_Hans/LC_MESSAGES && msgfmt --check -o django.mo django.po
"""

import ast
import gettext
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

KESTREL = Path(__file__).resolve().parents[2]
ROOT = KESTREL.parent
LOCALE = KESTREL / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE / "django.po"
MO = LOCALE / "django.mo"
MAKEMESSAGES = [
    "makemessages",
    "-l",
    "zh_Hans",
    "--ignore",
    "web/static/*",
    "--no-wrap",
    "--add-location",
    "file",
    "--no-obsolete",
]


@dataclass
class Entry:
    msgid: str
    context: str | None = None
    plural: str | None = None
    translation: str = ""
    fuzzy: bool = False

    @property
    def key(self) -> str:
        return f"{self.context}\x04{self.msgid}" if self.context else self.msgid


def read_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for Django's makemessages output (no polib in the dependencies)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags = ""
    current = ""

    def finish() -> None:
        nonlocal fields, flags
        if fields.get("msgid"):
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    context=fields.get("msgctxt"),
                    plural=fields.get("msgid_plural"),
                    translation=fields.get("msgstr", fields.get("msgstr[0]", "")),
                    fuzzy="fuzzy" in flags,
                )
            )
        fields, flags = {}, ""

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            finish()
        elif line.startswith("#,"):
            flags += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[current] += ast.literal_eval(line)
        else:
            keyword, _space, value = line.partition(" ")
            current = keyword
            fields[keyword] = ast.literal_eval(value)
    return entries


def test_plt3_every_message_is_translated_and_none_is_fuzzy() -> None:
    entries = read_po(PO)
    assert len(entries) > 100
    untranslated = [entry.msgid for entry in entries if not entry.translation]
    fuzzy = [entry.msgid for entry in entries if entry.fuzzy]
    assert untranslated == [], "untranslated msgids in django.po"
    assert fuzzy == [], "fuzzy entries in django.po: check the translation and drop the flag"


def test_plt3_compiled_catalogue_matches_the_po_file() -> None:
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in read_po(PO):
        compiled = catalogue.get((entry.key, 0)) if entry.plural else catalogue.get(entry.key)
        if compiled != entry.translation:
            stale.append(entry.msgid)
    assert stale == [], "django.mo is older than django.po: run msgfmt (see this module's docstring)"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) is not installed")
def test_plt3_every_string_in_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """Runs makemessages on a copy of the package, so a forgotten string fails here, not in front of
    a Chinese user."""
    copy = tmp_path / "kestrel"
    shutil.copytree(
        KESTREL,
        copy,
        ignore=shutil.ignore_patterns("vendor", "__pycache__", "*.pyc", "*.mo"),
    )
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *MAKEMESSAGES],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    known = {entry.key for entry in read_po(PO)}
    found = {entry.key for entry in read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    missing = sorted(found - known)
    assert missing == [], "strings missing from django.po: run makemessages (see this module's docstring)"
