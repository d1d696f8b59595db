# ruff: noqa: S608, S611 — SQL built from this module's constant table names; user text is always a parameter.
"""Customer search (ARC-10), indexed on both databases.

What a search text finds, each kind through its own index, combined as one ``id IN (… UNION …)``
sub-select so the outer query (data scope, confidentiality, filters, ordering) stays as it is. On SQLite
``UNION ALL`` (``IN`` ignores repeats; de-duplicating cost a temporary b-tree per branch); on PostgreSQL
``UNION``, since ``UNION ALL`` lets it plan a parallel append whose workers take 4 ms to start:

- Chinese (or any) substring of the name or short name: an n-gram index. A text is cut into its
  overlapping two-character grams (中国移动 → 中国 国移 移动); a name contains the text exactly when
  it holds those grams at consecutive positions.
  - SQLite: an FTS5 table (unicode61 tokenizer, contentless) whose columns are the gram sequences of
    ``name`` and ``short_name``, kept in sync by triggers; the query is a phrase ``"中国 国移 移动"``,
    which FTS5 answers from its index (positions included), so no recheck is needed.
  - PostgreSQL: a GIN index on ``customers_search_grams(name || ' ' || short_name)`` (an immutable SQL
    function returning the distinct one- and two-character grams); the query asks for the array to
    contain the text's grams and rechecks with ``LIKE`` on the few candidates.
  Why not trigrams (FTS5 ``trigram``, ``pg_trgm``): most Chinese company searches are two characters
  (华为, 移动, 钢铁) and a trigram index cannot answer those — both fall back to scanning every row.
  Two-character grams answer every length ≥ 2 from the index; a one-character text uses one-character
  grams (an FTS5 prefix query on SQLite), index-driven too though rarely selective.
- Pinyin initials (``zgyd`` → 中国移动) and full pinyin (``zhongguoyidong``), stored on write by the
  services: a prefix match as a range on a b-tree index (``>= 'zgyd' AND < 'zgye'``), which every
  database answers from the index whatever its LIKE rules.
- Customer code, credit code, phone, a contact's mobile, a contact's name: exact matches on b-tree
  indexes.

``customer_search_condition(text)`` is the one entry point (list, search and export share it). A list
first asks ``customer_search_candidates`` for the ids a text finds: when they are few (most texts),
it filters by them (``customer_ids_condition``), reading the indexes once instead of once for the
page and again for the count.

A text that a large share of all names contains (公司, 上海, a single letter) would make every index
above list hundreds of thousands of ids before the newest fifty are known. ``text_is_common`` tells such
a text from a sample of the newest customers; for it ``customer_match_condition`` finds the same
customers as a test of each row, so that a page reads the newest customers one by one and stops when
it is full (kestrel/core/pagination.py), and a capped count stops at its cap.
``search_index_install`` / ``search_index_remove`` are the migration's operations, and
``search_index_rebuild`` refills the SQLite index set-based (after a bulk load without triggers).
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection as default_connection
from django.db.models import BooleanField, Count, F, Func, Q
from django.db.models.expressions import RawSQL

from kestrel.customers.models import Contact, Customer
from kestrel.customers.validators import normalise_credit_code, normalise_phone

FTS_TABLE = "customers_search_fts"
SEQ_TABLE = "customers_search_seq"
GRAMS_FUNCTION = "customers_search_grams"
GRAMS_INDEX = "customers_search_grams_gin"
PINYIN_INDEX = "customers_name_pinyin"
MAX_NAME_LENGTH = 200  # Customer.name; the SQLite gram sequences are cut there
MAX_TEXT_LENGTH = 100

CUSTOMER = Customer._meta.db_table
CONTACT = Contact._meta.db_table
SEGMENT = re.compile(r"[^\W_]+")  # runs of letters and digits (CJK included): what the tokenizers keep


# --- Building the search ---------------------------------------------------------------------------


def customer_search_condition(text: str) -> Q:
    """ARC-10: the customers a search text finds, as ``Q(pk__in=<indexed sub-select>)``.

    Usable inside ``Customer.objects.readable_by(actor)…filter(…)``: the search never widens what the
    actor may read. An empty text finds nothing.
    """
    vendor = default_connection.vendor
    sql, params = customer_search_sql(text, vendor=vendor)
    if not sql:
        return Q(pk__in=[])
    if vendor == "postgresql":
        # ``id = ANY(ARRAY(…))`` rather than ``id IN (…)``: PostgreSQL runs the sub-select once and
        # then reads the matching rows by primary key. As a semi-join it may instead hash-join the
        # whole table when the list query joins more tables than join_collapse_limit lets it reorder.
        return Q(
            Func(
                F("pk"),
                RawSQL(sql, params),
                arg_joiner=" = ANY(ARRAY",
                template="%(expressions)s)",
                output_field=BooleanField(),
            )
        )
    return Q(pk__in=RawSQL(sql, params))


@dataclass(frozen=True)
class SearchKinds:
    """What a search text can be, read once for both ways of finding it (index or row test)."""

    text: str
    segments: list[str]  # substrings of the name or short name, all of which must occur
    prefix: tuple[str, str] | None  # pinyin initials / full pinyin: the range [from, to)
    codes: list[str]
    credit_code: str | None
    phone: str | None


def search_kinds(text: str) -> SearchKinds | None:
    text = (text or "").strip()[:MAX_TEXT_LENGTH]
    if not text:
        return None
    phone = normalise_phone(text)
    phone_like = len(phone) >= 7 and phone.replace("-", "").isdigit()
    compact = "".join(text.split()).lower()
    credit_code = normalise_credit_code(text)
    return SearchKinds(
        text=text,
        # a phone number is not looked for inside names
        segments=[] if phone_like else [segment.lower() for segment in SEGMENT.findall(text)],
        prefix=(compact, compact[:-1] + chr(ord(compact[-1]) + 1))
        if compact.isascii() and compact.isalpha()
        else None,
        codes=sorted({text, text.upper()}),
        credit_code=credit_code if len(credit_code) == 18 else None,
        phone=phone if phone_like else None,
    )


def customer_search_sql(text: str, *, vendor: str) -> tuple[str, list[Any]]:
    """The ``SELECT id … UNION [ALL] SELECT id …`` of every search kind that applies to ``text`` (an id
    may come twice on SQLite: the sub-select is only ever read by ``IN``)."""
    kinds = search_kinds(text)
    if kinds is None:
        return "", []
    return _branches_joined(
        _search_branches(kinds, vendor), " UNION ALL " if vendor == "sqlite" else " UNION "
    )


def customer_search_candidates(text: str, *, limit: int) -> list[int] | None:
    """The ids ``text`` finds, newest first, when there are at most ``limit`` of them; ``None`` when
    there are more. One read of the indexes, stopped after ``limit`` + 1 ids (``UNION ALL``: an id
    found twice is counted twice here, which only makes the limit come sooner)."""
    kinds = search_kinds(text)
    if kinds is None:
        return []
    vendor = default_connection.vendor
    sql, params = _branches_joined(_search_branches(kinds, vendor), " UNION ALL ")
    with default_connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) AS found LIMIT %s", [*params, limit + 1])
        rows = cursor.fetchall()
    if len(rows) > limit:
        return None
    return sorted({row[0] for row in rows}, reverse=True)


def matches_stream() -> bool:
    """Whether the substring index yields its matches one by one, so that reading the first few
    thousand costs little however many there are: SQLite's FTS5 does; PostgreSQL's GIN index lists
    every match in a bitmap first (公司 at 1M customers: 75 ms before the first id)."""
    return default_connection.vendor == "sqlite"


def customer_ids_condition(ids: list[int], field: str = "pk") -> Q:
    """``Q(pk__in=ids)`` (or ``field``'s) for a search's ids in hand, or a page's, as one parameter —
    PostgreSQL ``id = ANY(%s)``, SQLite ``id IN (SELECT value FROM json_each(%s))`` — instead of
    thousands of placeholders, each prepared by Django and parsed by the database (3,500 of them
    added ≈ 9 ms to a search's p95 on SQLite; a page's 50 cost 2–3 µs each)."""
    lookup = f"{field}__in"
    if not ids:
        return Q(**{lookup: []})
    if default_connection.vendor == "postgresql":
        return Q(
            Func(
                F(field),
                # The array as its text form: psycopg adapting a list of 3,500 ints took 2.3 ms.
                RawSQL("%s::bigint[]", ["{" + ",".join(map(str, ids)) + "}"]),
                arg_joiner=" = ANY(",
                template="%(expressions)s)",
                output_field=BooleanField(),
            )
        )
    if default_connection.vendor == "sqlite":
        return Q(**{lookup: RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])})
    return Q(**{lookup: ids})


def _search_branches(kinds: SearchKinds, vendor: str) -> list[tuple[str, list[Any]]]:
    branches: list[tuple[str, list[Any]]] = []
    if kinds.segments:
        branches.append(_substring_branch(kinds.segments, vendor))
    if kinds.prefix:
        for column in ("name_initials", "name_pinyin"):
            branches.append(
                (f"SELECT id FROM {CUSTOMER} WHERE {column} >= %s AND {column} < %s", [*kinds.prefix])
            )
    placeholders = ", ".join(["%s"] * len(kinds.codes))
    branches.append((f"SELECT id FROM {CUSTOMER} WHERE code IN ({placeholders})", kinds.codes))
    if kinds.credit_code:
        branches.append((f"SELECT id FROM {CUSTOMER} WHERE credit_code = %s", [kinds.credit_code]))
    if kinds.phone:
        branches.append((f"SELECT id FROM {CUSTOMER} WHERE phone = %s", [kinds.phone]))
        branches.append((f"SELECT customer_id FROM {CONTACT} WHERE mobile = %s", [kinds.phone]))
    branches.append((f"SELECT customer_id FROM {CONTACT} WHERE name = %s", [kinds.text]))
    return branches


def _branches_joined(branches: list[tuple[str, list[Any]]], union: str) -> tuple[str, list[Any]]:
    sql = union.join(branch for branch, _params in branches)
    return sql, [param for _branch, branch_params in branches for param in branch_params]


def customer_match_condition(text: str) -> Q:
    """The customers ``customer_search_condition(text)`` finds, as a test of each row instead of an
    index lookup: a substring of the name or short name by ``LIKE``, the pinyin prefixes as ranges,
    the codes, phones and contacts as before. For a common text only (``text_is_common``)."""
    kinds = search_kinds(text)
    if kinds is None:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    if kinds.segments:
        every = Q()
        for segment in kinds.segments:
            every &= Q(name__icontains=segment) | Q(short_name__icontains=segment)
        condition |= every
    if kinds.prefix:
        for column in ("name_initials", "name_pinyin"):
            condition |= Q(**{f"{column}__gte": kinds.prefix[0], f"{column}__lt": kinds.prefix[1]})
    condition |= Q(code__in=kinds.codes)
    if kinds.credit_code:
        condition |= Q(credit_code=kinds.credit_code)
    if kinds.phone:
        mobiles = Contact.objects.filter(mobile=kinds.phone).values("customer_id")
        condition |= Q(phone=kinds.phone) | Q(pk__in=mobiles)
    return condition | Q(pk__in=Contact.objects.filter(name=kinds.text).values("customer_id"))


def text_is_common(text: str, *, sample: int, share: float) -> bool:
    """Whether at least ``share`` of the newest ``sample`` customers match ``text`` (one range of the
    primary key, each row tested): then reading customers newest first finds a page within a few
    hundred rows, while the indexes would list every match first."""
    newest = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    if newest is None or not (text or "").strip():
        return False
    # The newest id as a value, not a sub-select: with the sub-select PostgreSQL took 6 ms instead of 1
    # at 1M customers (it cannot see how narrow the range is when it plans).
    recent = Customer.objects.filter(pk__gt=newest - sample).aggregate(
        rows=Count("pk"), matches=Count("pk", filter=customer_match_condition(text))
    )
    return recent["matches"] >= max(1, recent["rows"] * share)


def grams(segment: str) -> list[str]:
    """中国移动 → [中国, 国移, 移动]; one character stays itself."""
    if len(segment) < 2:
        return [segment] if segment else []
    return [segment[i : i + 2] for i in range(len(segment) - 1)]


def _substring_branch(segments: list[str], vendor: str) -> tuple[str, list[Any]]:
    if vendor == "sqlite":
        phrases = []
        for segment in segments:
            phrase = '"' + " ".join(grams(segment)) + '"'
            phrases.append(phrase + "*" if len(segment) == 1 else phrase)
        return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [" ".join(phrases)]
    wanted = sorted({gram for segment in segments for gram in grams(segment)})
    likes = []
    params: list[Any] = [wanted]
    for segment in segments:
        pattern = "%" + segment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        likes.append("(lower(name) LIKE %s OR lower(short_name) LIKE %s)")
        params += [pattern, pattern]
    return (
        f"SELECT id FROM {CUSTOMER} WHERE {GRAMS_FUNCTION}(name || ' ' || short_name) @> %s::text[] "
        f"AND {' AND '.join(likes)}",
        params,
    )


# --- The indexes (run by the migration) ------------------------------------------------------------


def _sqlite_grams_ordered(column: str) -> str:
    """SQL for the gram sequence of ``column``: its bigrams in order (phrase queries need the
    positions), then its last character, so a one-character prefix query also finds a name ending
    with that character."""
    return (
        f"coalesce((SELECT group_concat(gram, ' ') FROM ("
        f"SELECT i, substr({column}, i, 2) AS gram FROM {SEQ_TABLE} WHERE i < length({column}) "
        f"UNION ALL SELECT {MAX_NAME_LENGTH + 1}, substr({column}, -1, 1) ORDER BY 1)), '')"
    )


SQLITE_INSTALL = [
    f"CREATE TABLE IF NOT EXISTS {SEQ_TABLE} (i INTEGER PRIMARY KEY)",
    f"INSERT OR IGNORE INTO {SEQ_TABLE} (i) "
    f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MAX_NAME_LENGTH}) "
    f"SELECT i FROM n",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(name, short_name, content='', "
    f"tokenize='unicode61')",
    f"CREATE TRIGGER IF NOT EXISTS customers_search_ai AFTER INSERT ON {CUSTOMER} BEGIN "
    f"INSERT INTO {FTS_TABLE} (rowid, name, short_name) VALUES "
    f"(NEW.id, {_sqlite_grams_ordered('NEW.name')}, {_sqlite_grams_ordered('NEW.short_name')}); END",
    f"CREATE TRIGGER IF NOT EXISTS customers_search_ad AFTER DELETE ON {CUSTOMER} BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, name, short_name) VALUES "
    f"('delete', OLD.id, {_sqlite_grams_ordered('OLD.name')}, "
    f"{_sqlite_grams_ordered('OLD.short_name')}); END",
    f"CREATE TRIGGER IF NOT EXISTS customers_search_au AFTER UPDATE OF name, short_name ON {CUSTOMER} "
    f"WHEN OLD.name IS NOT NEW.name OR OLD.short_name IS NOT NEW.short_name BEGIN "
    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, name, short_name) VALUES "
    f"('delete', OLD.id, {_sqlite_grams_ordered('OLD.name')}, "
    f"{_sqlite_grams_ordered('OLD.short_name')}); "
    f"INSERT INTO {FTS_TABLE} (rowid, name, short_name) VALUES "
    f"(NEW.id, {_sqlite_grams_ordered('NEW.name')}, {_sqlite_grams_ordered('NEW.short_name')}); END",
    f"CREATE INDEX IF NOT EXISTS {PINYIN_INDEX} ON {CUSTOMER} (name_pinyin)",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS customers_search_ai",
    "DROP TRIGGER IF EXISTS customers_search_ad",
    "DROP TRIGGER IF EXISTS customers_search_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"DROP TABLE IF EXISTS {SEQ_TABLE}",
    f"DROP INDEX IF EXISTS {PINYIN_INDEX}",
]

POSTGRESQL_INSTALL = [
    # One- and two-character grams of a text, without whitespace: the GIN index holds them per row.
    f"""CREATE OR REPLACE FUNCTION {GRAMS_FUNCTION}(value text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT gram), '{{}}') FROM (
            SELECT substr(lower(value), i, 2) AS gram FROM generate_series(1, length(value) - 1) AS i
            UNION ALL
            SELECT substr(lower(value), i, 1) FROM generate_series(1, length(value)) AS i
        ) AS grams WHERE gram !~ '\\s'
    $$""",
    f"CREATE INDEX IF NOT EXISTS {GRAMS_INDEX} ON {CUSTOMER} "
    f"USING gin ({GRAMS_FUNCTION}(name || ' ' || short_name))",
    # With the id: a search's ids read from the index alone (an index-only scan).
    f"CREATE INDEX IF NOT EXISTS {PINYIN_INDEX} ON {CUSTOMER} (name_pinyin, id)",
]
POSTGRESQL_REMOVE = [
    f"DROP INDEX IF EXISTS {GRAMS_INDEX}",
    f"DROP INDEX IF EXISTS {PINYIN_INDEX}",
    f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(text)",
]


def search_index_install(apps: Any = None, schema_editor: Any = None) -> None:
    connection = schema_editor.connection if schema_editor is not None else default_connection
    statements = {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRESQL_INSTALL}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    if connection.vendor == "sqlite":
        search_index_rebuild(connection=connection)


def search_index_remove(apps: Any = None, schema_editor: Any = None) -> None:
    connection = schema_editor.connection if schema_editor is not None else default_connection
    statements = {"sqlite": SQLITE_REMOVE, "postgresql": POSTGRESQL_REMOVE}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def search_index_rebuild(*, connection: Any = None, after_id: int = 0) -> None:
    """SQLite: (re)fill the gram index for customers with ``id > after_id`` in one statement.
    PostgreSQL maintains its expression index itself: nothing to do."""
    connection = connection or default_connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if after_id == 0:
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, name, short_name) "
            f"SELECT id, {_sqlite_grams_ordered('name')}, {_sqlite_grams_ordered('short_name')} "
            f"FROM {CUSTOMER} WHERE id > %s",
            [after_id],
        )


def search_triggers(*, enabled: bool, connection: Any = None) -> None:
    """SQLite: drop or re-create the insert trigger around a bulk load that fills the index itself
    with :func:`search_index_rebuild` (one statement instead of one trigger run per row)."""
    connection = connection or default_connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if enabled:
            cursor.execute(SQLITE_INSTALL[3])
        else:
            cursor.execute("DROP TRIGGER IF EXISTS customers_search_ai")
