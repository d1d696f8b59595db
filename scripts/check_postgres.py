"""Exit 0 if the PostgreSQL server in a URL accepts a connection within a few seconds; otherwise say
why, in one line, and exit 1. `make test` calls it before the PostgreSQL run, so a server that is
down reads as that, not as a page of test errors.

Usage: python scripts/check_postgres.py postgresql://postgres@127.0.0.1:5432/test
"""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def server_version(url: str) -> str:
    """Django's test runner creates its own test_<name> database through the maintenance database
    `postgres`, so the server counts as reachable even when the URL's own database does not exist."""
    try:
        connection = psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
        connection = psycopg.connect(url, connect_timeout=5, dbname="postgres")
    with connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0]:
        print("usage: check_postgres.py POSTGRES_URL", file=sys.stderr)
        return 2
    url = argv[0]
    shown = without_password(url)
    try:
        version = server_version(url)
    except psycopg.Error as error:
        reason = " ".join(str(error).split())
        print(f"make test: cannot reach PostgreSQL at {shown}: {reason}", file=sys.stderr)
        print("Start the server, or unset KESTREL_TEST_PG to test on SQLite only.", file=sys.stderr)
        return 1
    print(f"PostgreSQL {version} at {shown} is reachable.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
