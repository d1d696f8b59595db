"""Reading and writing .xlsx and .csv files safely (ARC-11).

Reading refuses hostile files before they cost memory: the byte size is checked first, an .xlsx
archive is inspected (member sizes, compression ratio, macros, DTDs) before openpyxl opens it, and
rows are streamed and counted. openpyxl parses XML through defusedxml when it is installed (it is a
dependency), so entity expansion raises instead of expanding; the DTD scan below refuses such files
with a clear message before openpyxl even starts. Formulas are never evaluated: cells are read with
``data_only=False`` — a formula arrives as its text (``=SUM(A1:A2)``), never as the value some other
program cached for it — and the importer reports it.

Writing neutralises cells that a spreadsheet would run as a formula (OWASP "CSV injection").
"""

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kestrel.core.errors import KestrelError

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
DEFAULT_MAX_ROWS = 100_000
# An .xlsx is a zip of XML; real sheets compress about 5-20×. A bomb compresses 1000× and more.
MAX_UNCOMPRESSED_BYTES = 200 * MB
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 1_000
MAX_COLUMNS = 200
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".xlsb")
SUPPORTED_SUFFIXES = (".xlsx", ".csv")
DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


class FileRefused(KestrelError):
    """The file is refused as a whole: nothing is read from it and nothing is saved."""

    status = 400
    code = "import_file_refused"


class FileTooLarge(FileRefused):
    status = 413
    code = "import_file_too_large"


def max_bytes() -> int:
    return int(getattr(settings, "KESTREL_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "KESTREL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


@dataclass(slots=True)
class Cell:
    text: str
    is_formula: bool = False


Source = str | Path | BinaryIO | IO[bytes]


def suffix_of(file_name: str) -> str:
    suffix = Path(file_name or "").suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise FileRefused(
            _("Files with macros (.xlsm, .xlsb, …) are not accepted; save the sheet as .xlsx."),
            code="import_macros_refused",
            details={"file_name": file_name},
        )
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRefused(
            _("Only .xlsx and .csv files can be imported."),
            code="import_unsupported_format",
            details={"file_name": file_name},
        )
    return suffix


def _size_of(source: Source) -> int:
    if isinstance(source, str | Path):
        return os.stat(source).st_size
    position = source.tell()
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def check_size(source: Source) -> int:
    size = _size_of(source)
    limit = max_bytes()
    if size > limit:
        raise FileTooLarge(
            _("The file is too large: %(size)d bytes, at most %(limit)d are accepted.")
            % {"size": size, "limit": limit},
            details={"size": size, "limit": limit},
        )
    if size == 0:
        raise FileRefused(_("The file is empty."), code="import_file_empty")
    return size


def read_rows(source: Source, *, file_name: str) -> Iterator[list[Cell]]:
    """Every row of the first sheet (or of the CSV), header included, as cells of text.

    Raises ``FileRefused`` for hostile or unreadable files and once the row limit is passed.
    """
    suffix = suffix_of(file_name)
    check_size(source)
    rows = _xlsx_rows(source) if suffix == ".xlsx" else _csv_rows(source)
    limit = max_rows()
    for count, row in enumerate(rows):
        if count > limit:  # the header row does not count
            raise FileRefused(
                _("The file has more than %(limit)d rows; split it into smaller files.") % {"limit": limit},
                code="import_too_many_rows",
                details={"limit": limit},
            )
        yield row


# --- .xlsx ---------------------------------------------------------------------------------------


def inspect_xlsx(source: Source) -> int | None:
    """Refuse zip bombs, macros and XML with a DTD before openpyxl sees the file. Returns the data
    rows the first sheet declares (its ``<dimension>``), if it declares them."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise FileRefused(
            _("The file is not a valid .xlsx workbook."), code="import_file_unreadable"
        ) from error
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise FileRefused(_("The workbook has too many parts."), code="import_zip_bomb")
        total = 0
        for member in members:
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if total > MAX_UNCOMPRESSED_BYTES or (member.file_size > MB and ratio > MAX_COMPRESSION_RATIO):
                raise FileRefused(
                    _("The workbook expands to an implausible size (a zip bomb?); it is refused."),
                    code="import_zip_bomb",
                    details={"member": member.filename},
                )
            name = member.filename.lower()
            if name.endswith("vbaproject.bin") or "macroenabled" in name:
                raise FileRefused(
                    _("The workbook contains macros; save it as a plain .xlsx without macros."),
                    code="import_macros_refused",
                )
        content_types = _member_head(archive, "[Content_Types].xml", 1 * MB)
        if b"macroEnabled" in content_types or b"vbaProject" in content_types:
            raise FileRefused(
                _("The workbook contains macros; save it as a plain .xlsx without macros."),
                code="import_macros_refused",
            )
        for member in members:
            if member.filename.lower().endswith((".xml", ".rels", ".vml")):
                head = _member_head(archive, member.filename, 4096)
                if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                    raise FileRefused(
                        _("The workbook contains XML declarations that are not allowed (DTD/entities)."),
                        code="import_xml_refused",
                        details={"member": member.filename},
                    )
        sheet_head = _member_head(archive, "xl/worksheets/sheet1.xml", 4096)
        declared = DIMENSION.search(sheet_head)
        return max(int(declared.group(1)) - 1, 0) if declared else None


def preflight(source: Source, *, file_name: str) -> int | None:
    """The checks that need no parsing, for an upload to be refused at once (nothing is saved):
    format, size, zip structure, macros, DTDs, and the row count where it is cheap to know.
    Returns the estimated number of data rows, or ``None`` when unknown."""
    suffix = suffix_of(file_name)
    check_size(source)
    if not isinstance(source, str | Path):
        source.seek(0)
    estimate: int | None
    if suffix == ".xlsx":
        estimate = inspect_xlsx(source)
    else:
        data = Path(source).read_bytes() if isinstance(source, str | Path) else source.read()
        estimate = max(data.count(b"\n") - (0 if data.endswith(b"\n") else -1) - 1, 0)
    if not isinstance(source, str | Path):
        source.seek(0)
    limit = max_rows()
    if estimate is not None and estimate > limit:
        raise FileRefused(
            _("The file has more than %(limit)d rows; split it into smaller files.") % {"limit": limit},
            code="import_too_many_rows",
            details={"limit": limit, "rows": estimate},
        )
    return estimate


def _member_head(archive: zipfile.ZipFile, name: str, size: int) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(size)
    except KeyError:
        return b""


def _xlsx_rows(source: Source) -> Iterator[list[Cell]]:
    from defusedxml.common import DefusedXmlException
    from openpyxl import load_workbook

    if not isinstance(source, str | Path):
        source.seek(0)
    inspect_xlsx(source)
    if not isinstance(source, str | Path):
        source.seek(0)
    try:
        # read_only streams the sheet; data_only=False: a formula is its text, never a cached result.
        workbook = load_workbook(source, read_only=True, data_only=False, keep_links=False)
    except (DefusedXmlException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FileRefused(
            _("The file is not a valid .xlsx workbook."), code="import_file_unreadable"
        ) from error
    try:
        sheet = workbook.worksheets[0]
        # The declared <dimension> is only a claim: openpyxl would silently stop reading there.
        # Read every row, but never more than MAX_COLUMNS columns (a cell in column XFD would
        # otherwise make openpyxl pad every row with 16,384 empty cells).
        sheet.reset_dimensions()
        for values in sheet.iter_rows(max_col=MAX_COLUMNS):
            yield [_xlsx_cell(cell) for cell in values]
    except DefusedXmlException as error:
        raise FileRefused(
            _("The workbook contains XML declarations that are not allowed (DTD/entities)."),
            code="import_xml_refused",
        ) from error
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FileRefused(
            _("The file is not a valid .xlsx workbook."), code="import_file_unreadable"
        ) from error
    finally:
        workbook.close()


def _xlsx_cell(cell: Any) -> Cell:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        return Cell(str(value if value is not None else "="), is_formula=True)
    return Cell(cell_text(value))


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # Excel keeps every number as a float: 13812345678.0 is a phone number, not a fraction.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# --- .csv ----------------------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — what Chinese Excel writes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise FileRefused(
            _("The CSV file is neither UTF-8 nor GB18030 text."), code="import_file_unreadable"
        ) from error


def _csv_rows(source: Source) -> Iterator[list[Cell]]:
    if isinstance(source, str | Path):
        data = Path(source).read_bytes()  # the size is already checked
    else:
        source.seek(0)
        data = source.read()
    text = decode_csv(data)
    del data
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for values in reader:
            yield [Cell(value.strip(), is_formula=value.startswith("=")) for value in values]
    except csv.Error as error:
        raise FileRefused(
            _("The CSV file cannot be read: %(error)s") % {"error": error}, code="import_file_unreadable"
        ) from error


# --- Writing -------------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return neutralise(value)


def write_csv(stream: IO[str], header: list[str], rows: Iterable[list[Any]]) -> int:
    """CSV with a UTF-8 BOM so that Excel opens Chinese text correctly; returns the row count."""
    stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow([neutralise(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([export_value(v) for v in row])
        count += 1
    return count


def write_xlsx(target: Any, sheets: list[tuple[str, list[str], Iterable[list[Any]]]]) -> int:
    """A workbook in openpyxl's write-only (streaming) mode; returns the rows of the first sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    first_count = 0
    for index, (title, header, rows) in enumerate(sheets):
        sheet = workbook.create_sheet(title=title)
        sheet.append([neutralise(h) for h in header])
        count = 0
        for row in rows:
            sheet.append([export_value(v) for v in row])
            count += 1
        if index == 0:
            first_count = count
    workbook.save(target)
    return first_count
