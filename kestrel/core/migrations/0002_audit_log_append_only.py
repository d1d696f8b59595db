"""PLT-5: audit rows are append-only. The database itself refuses UPDATE and DELETE on them.

On SQLite only UPDATE is refused by a trigger: the test runner empties tables with DELETE there,
while PostgreSQL empties them with TRUNCATE, which row triggers do not see.
"""

from django.db import migrations

SQLITE_UP = [
    """
    CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE ON auditlog_logentry
    BEGIN SELECT RAISE(ABORT, 'audit log entries are append-only'); END;
    """,
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS auditlog_logentry_no_update;"]

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION kestrel_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit log entries are append-only';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER auditlog_logentry_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION kestrel_audit_append_only();
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS auditlog_logentry_append_only ON auditlog_logentry;",
    "DROP FUNCTION IF EXISTS kestrel_audit_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auditlog", "__latest__")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
