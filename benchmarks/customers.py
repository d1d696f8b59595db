"""Customer archive at 10k, 100k and 1M customers on SQLite and PostgreSQL (ARC-10, ARC-11, SPEC §9).

    python benchmarks/customers.py [--sizes 10000,100000,1000000] [--databases sqlite,postgresql]
                                   [--requests 200] [--import-rows 5000]

For each database (a child process each, since Django's settings are per process) it builds a
fresh database of its own — SQLite: ``$KESTREL_VAR_DIR/customers-bench.sqlite3``; PostgreSQL: the
database ``kestrel_bench`` on the server of ``KESTREL_BENCH_PG`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), created and dropped — migrates it, loads the demo
company, and for each size tops the demo customers up with ``seed-demo``'s generator, keeping a copy
at each size but the last (a file copy; ``CREATE DATABASE … TEMPLATE``). Then, through the API
in-process (``django.test.Client`` with a bearer token), as a branch sales manager (data scope: own
department, confidentiality rules) and as a superuser, it sends ``--requests`` requests of each query
to each size — in four rounds that go from size to size, each request count split over them, so that
the host's slow spells fall on all sizes alike — and reports p50/p95:

- ``list``: ``GET /customers`` (first page, 50 rows, count capped at 10,000);
- ``filtered``: ``?province_id=…&status=active``;
- ``initials``: ``?q=`` the first 6 pinyin initials of a random company's name (``hzhtjx``…);
- ``substring``: ``?q=`` 3 Chinese characters from the middle of a random company's name;
- ``phone``: ``?q=`` a random customer's phone or a contact's mobile;
- ``person``: ``?q=`` a private customer's initials — a person's name has two or three (陈杰 →
  ``cj``), shared by hundreds of people at 1M;
- ``common``: ``?q=`` a word in thousands of names (公司, 上海, 科技).

``person`` and ``common`` are outside the goal: what they find — and count, up to 1,000 — grows with
the customer base by nature; they are shown so that the cost of such a search is seen. (Until run E a
private customer's two or three initials were drawn as ``initials`` too, in ≈ 5 % of its requests:
the slow 5 % that made its p95.)

Import: ``--import-rows`` customers as a CSV through ``kestrel.customers.importing.customers_import``
(create mode, committed) against a ``bulk_create`` of the same rows, rows/s each (at the first size).

The goal (issue 4): p95 at 1M ≤ 1.5 × p95 at 10k for every query but ``person`` and ``common``;
import ≥ 25 % of bulk insert.
"""

import argparse
import csv
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["list", "filtered", "initials", "substring", "phone", "person", "common"]
OUTSIDE_GOAL = {"person", "common"}
COMMON_TEXTS = ["公司", "上海", "科技"]  # in ≈ 95 %, 15 % and 2 % of the demo's names
USERS = ["sales_manager", "superuser"]
BENCH_DB = "kestrel_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--import-rows", type=int, default=5000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if args.child:
        results = child_run(args.child, sizes, args.requests, args.import_rows)
        Path(args.out).write_text(json.dumps(results))
        return 0
    print(machine_description())
    all_results = {}
    for database in [d for d in args.databases.split(",") if d]:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = handle.name
        command = [sys.executable, __file__, "--child", database, "--out", out, "--sizes", args.sizes]
        command += ["--requests", str(args.requests), "--import-rows", str(args.import_rows)]
        started = time.monotonic()
        status = subprocess.call(command, cwd=ROOT)
        if status != 0:
            print(f"{database}: the benchmark failed (exit {status})", file=sys.stderr)
            return status
        all_results[database] = json.loads(Path(out).read_text())
        Path(out).unlink()
        print(f"== {database} done in {time.monotonic() - started:.0f}s")
    print(markdown(all_results, sizes))
    return 0


# --- One database ----------------------------------------------------------------------------------


def child_run(database: str, sizes: list[int], requests: int, import_rows: int) -> dict:
    """Seed the sizes one after the other, keeping a copy of the database at each size, then measure
    them in ``ROUNDS`` interleaved rounds: a slow spell of the host (this VM's speed drifts by a third
    within minutes) then falls on every size alike instead of on whichever was measured in it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kestrel.settings")
    var_dir = Path(os.environ.get("KESTREL_VAR_DIR") or ROOT / "var" / "bench")
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["KESTREL_VAR_DIR"] = str(var_dir)
    server = _postgres_server()
    if database == "sqlite":
        path = var_dir / "customers-bench.sqlite3"
        _sqlite_remove(path, sizes)
        os.environ["KESTREL_DATABASE_URL"] = f"sqlite:///{path}"
    else:
        _postgres_drop(server, sizes)
        _postgres_create(server, BENCH_DB)
        os.environ["KESTREL_DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + BENCH_DB
    os.environ["KESTREL_DEBUG"] = ""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from kestrel.core.runtime import startup_objects_frozen

    startup_objects_frozen()  # as kestrel/wsgi.py does in the server

    from kestrel.customers.demo import customers_demo_seed
    from kestrel.org.demo import demo_company_seed
    from kestrel.org.tests.fixtures import token_for

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    demo_company_seed()
    users = {
        "sales_manager": get_user_model().objects.get(username="sh_sm"),
        "superuser": get_user_model().objects.create_superuser("bench_admin", "", f"bench-{random.random()}"),
    }
    # Tokens before the copies: each size's database has them.
    headers = {key: {"Authorization": f"Bearer {token_for(user, hours=12)}"} for key, user in users.items()}
    print(f"[{database}] migrated and demo company in {time.monotonic() - started:.0f}s", flush=True)
    results: dict = {"version": _database_version(connection), "rounds": ROUNDS, "sizes": {}}
    names = {}
    for size in sizes:
        started = time.monotonic()
        created = customers_demo_seed(count=size)["created"]
        seconds = time.monotonic() - started
        print(f"[{database}] {size:>9,} customers: +{created:,} in {seconds:.0f}s", flush=True)
        results["sizes"][str(size)] = {"seed_rows": created, "seed_seconds": seconds}
        names[size] = _database_copy(connection, size, last=size == sizes[-1])

    runs = {size: QueryRun(size, users, headers) for size in sizes}
    per_round = -(-requests // ROUNDS)
    for number in range(ROUNDS):
        for size in sizes:
            _database_use(connection, names[size])
            runs[size].round(per_round)
        print(f"[{database}] round {number + 1} of {ROUNDS} measured", flush=True)
    for size in sizes:
        entry = results["sizes"][str(size)]
        entry["queries"] = runs[size].figures()
        for query in QUERIES:
            figures = [entry["queries"][user][query] for user in USERS]
            line = "  ".join(
                f"{u} p50 {f['p50']:.1f} p95 {f['p95']:.1f}" for u, f in zip(USERS, figures, strict=True)
            )
            print(f"[{database}] {size:>9,} {query:<9} {line}  (ms)", flush=True)
    if import_rows:
        _database_use(connection, names[sizes[0]])
        results["sizes"][str(sizes[0])]["import"] = import_measure(import_rows)
    connection.close()
    if database == "sqlite":
        _sqlite_remove(path, sizes)
    else:
        _postgres_drop(server, sizes)
    return results


ROUNDS = 4


class QueryRun:
    """The requests of one size: search texts drawn once from its customers, timings pooled over the
    rounds; each round warms the caches with 10 unmeasured requests per query first."""

    def __init__(self, size: int, users: dict, headers: dict) -> None:
        self.size, self.users, self.headers = size, users, headers
        self.rng = random.Random(size)
        self.samples: dict | None = None
        self.timings = {user: {query: [] for query in QUERIES} for user in USERS}
        self.counts = {user: {query: [] for query in QUERIES} for user in USERS}

    def round(self, requests: int) -> None:
        from django.test import Client

        if self.samples is None:
            self.samples = {key: self.samples_for(user) for key, user in self.users.items()}
        client = Client()
        for user_key in USERS:
            for query in QUERIES:
                for attempt in range(requests + 10):
                    params = self.params(query, self.samples[user_key])
                    started = time.perf_counter()
                    response = client.get("/api/v1/customers", params, headers=self.headers[user_key])
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"{query} as {user_key}: {response.status_code} {response.content[:300]}"
                        )
                    if attempt >= 10:
                        self.timings[user_key][query].append(elapsed)
                        self.counts[user_key][query].append(response.json()["count"])

    def figures(self) -> dict:
        measured: dict = {}
        for user_key in USERS:
            measured[user_key] = {}
            for query in QUERIES:
                timings = sorted(self.timings[user_key][query])
                measured[user_key][query] = {
                    "p50": statistics.median(timings),
                    "p95": timings[int(len(timings) * 0.95) - 1],
                    "median_count": statistics.median(self.counts[user_key][query]),
                }
        return measured

    def samples_for(self, user) -> dict[str, list]:
        """Search texts come from customers this user can read, as a user would search for them:
        their rows, split into companies and people (private customers), and their contacts' mobiles."""
        from kestrel.customers.models import Contact, Customer, Region

        last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
        ids = [self.rng.randint(1, last) for _ in range(4000)]
        rows = list(
            Customer.objects.readable_by(user)
            .filter(pk__in=ids)
            .values_list("pk", "name", "name_initials", "phone", "kind")
        )
        mobiles = list(
            Contact.objects.filter(customer_id__in=[row[0] for row in rows]).values_list("mobile", flat=True)
        )
        self.provinces = list(
            Region.objects.filter(code__in=["310000", "330000", "110000", "440000"]).values_list(
                "pk", flat=True
            )
        )
        people = [row for row in rows if row[4] == Customer.Kind.INDIVIDUAL]
        companies = [row for row in rows if row[4] != Customer.Kind.INDIVIDUAL]
        return {"rows": rows, "companies": companies or rows, "people": people or rows, "mobiles": mobiles}

    def params(self, query: str, sample: dict[str, list]) -> dict:
        rng = self.rng
        if query == "list":
            return {}
        if query == "filtered":
            return {"province_id": rng.choice(self.provinces), "status": "active"}
        if query == "initials":
            return {"q": rng.choice(sample["companies"])[2][:6]}
        if query == "substring":
            return {"q": rng.choice(sample["companies"])[1][2:5]}
        if query == "person":
            return {"q": rng.choice(sample["people"])[2]}
        if query == "common":
            return {"q": rng.choice(COMMON_TEXTS)}
        mobiles = sample["mobiles"]
        return {
            "q": rng.choice(sample["rows"])[3] if rng.random() < 0.5 or not mobiles else rng.choice(mobiles)
        }


def _database_copy(connection, size: int, *, last: bool) -> str:
    """The database as it is at ``size``: a copy of it (the original goes on growing), or the original
    itself for the last size. Returns the NAME to connect to."""
    name = connection.settings_dict["NAME"]
    if last:
        return name
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file to be copied
    connection.close()  # PostgreSQL copies only a template no one is connected to
    if connection.vendor == "sqlite":
        copy = f"{name}.{size}"
        shutil.copyfile(name, copy)
        return copy
    copy = f"{BENCH_DB}_{size}"
    server = _postgres_server()
    _postgres_create(server, copy, template=BENCH_DB)
    return copy


def _database_use(connection, name: str) -> None:
    if connection.settings_dict["NAME"] != name:
        connection.close()
        connection.settings_dict["NAME"] = name


def import_measure(rows: int) -> dict:
    """Import ``rows`` customers from a CSV through the importer, then bulk_create the same rows;
    both are deleted again so the sizes stay as seeded."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from kestrel.customers import demo
    from kestrel.customers.models import Customer, Region

    try:
        from kestrel.customers.importing import customers_import
    except ImportError:  # the importer is not there: raw bulk insert only
        customers_import = None
    actor = get_user_model().objects.get(username="bench_admin")
    generator = demo._Generator()
    rng = random.Random(7)
    from django.utils import timezone

    now = timezone.now()
    source = [generator.customer(rng, 90_000_000 + n, now, now.date()) for n in range(rows)]
    codes = [f"IMP{n:07d}" for n in range(rows)]
    result: dict = {"rows": rows}
    region_codes = dict(Region.objects.values_list("pk", "code"))
    if customers_import is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["客户编码", "客户名称", "简称", "统一社会信用代码", "地区", "电话", "年销售额", "负责人"]
        )
        for code, row in zip(codes, source, strict=True):
            region = region_codes[row["district_id"]]
            writer.writerow([code, row["name"], row["short_name"], row["credit_code"] or "", region,
                             row["phone"], str(row["annual_sales"]), "sh_rep1"])  # fmt: skip
        data = io.BytesIO(buffer.getvalue().encode("utf-8"))
        data.name = "bench.csv"
        started = time.perf_counter()
        job = customers_import(actor=actor, path_or_file=data, file_name="bench.csv", dry_run=False)
        seconds = time.perf_counter() - started
        if job.created_count != rows:
            raise RuntimeError(f"import created {job.created_count} of {rows}: {job.report[:5]}")
        result["import_rows_per_s"] = rows / seconds
        Customer.objects.filter(code__in=codes).delete()
    objects = []
    for code, row in zip(codes, source, strict=True):
        fields = {k: v for k, v in row.items() if k not in {"created_at", "updated_at"}}
        objects.append(Customer(**{**fields, "code": code}))
    started = time.perf_counter()
    with transaction.atomic():
        Customer.objects.bulk_create(objects, batch_size=1000)
    seconds = time.perf_counter() - started
    result["bulk_create_rows_per_s"] = rows / seconds
    Customer.objects.filter(code__in=codes).delete()
    return result


def _postgres_server() -> str:
    return os.environ.get("KESTREL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_create(server: str, name: str, *, template: str | None = None) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))


def _postgres_drop(server: str, sizes: list[int]) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        for name in [BENCH_DB, *(f"{BENCH_DB}_{size}" for size in sizes)]:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _sqlite_remove(path: Path, sizes: list[int]) -> None:
    for name in [str(path), *(f"{path}.{size}" for size in sizes)]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


def _database_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


# --- Report ---------------------------------------------------------------------------------------


def machine_description() -> str:
    cpu = "unknown CPU"
    cores = os.cpu_count()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{memory_kb / 1024 / 1024:.0f} GiB"
    except OSError:
        memory = "?"
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"machine: {cpu}, {cores} cores, {memory} RAM, {system}"


def markdown(results: dict, sizes: list[int]) -> str:
    lines = []
    for data in results.values():
        lines.append(f"\n### {data['version']}\n")
        header = "| query | user | " + " | ".join(f"p50 / p95 at {size:,}" for size in sizes)
        header += " | p95 largest ÷ p95 smallest |"
        lines += [header, "| --- | --- | " + " | ".join("---" for _ in sizes) + " | --- |"]
        for query in QUERIES:
            for user in USERS:
                cells, p95s = [], []
                for size in sizes:
                    q = data["sizes"][str(size)]["queries"][user][query]
                    cells.append(f"{q['p50']:.1f} / {q['p95']:.1f} ms (n≈{q['median_count']:.0f})")
                    p95s.append(q["p95"])
                ratio = f"{p95s[-1] / p95s[0]:.2f}" + (" (outside the goal)" if query in OUTSIDE_GOAL else "")
                lines.append(f"| {query} | {user} | " + " | ".join(cells) + f" | {ratio} |")
        seeds = ", ".join(
            f"{int(entry['seed_rows']):,} in {entry['seed_seconds']:.0f}s" for entry in data["sizes"].values()
        )
        lines.append(f"\nseed-demo top-ups: {seeds}")
        first = data["sizes"][str(sizes[0])].get("import")
        if first:
            imported = first.get("import_rows_per_s")
            bulk = first["bulk_create_rows_per_s"]
            if imported:
                lines.append(
                    f"import of {first['rows']:,} rows: {imported:,.0f} rows/s; "
                    f"bulk_create of the same rows: "
                    f"{bulk:,.0f} rows/s → import at {imported / bulk:.0%} of bulk insert"
                )
            else:
                lines.append(f"bulk_create of {first['rows']:,} rows: {bulk:,.0f} rows/s (import: TODO)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
