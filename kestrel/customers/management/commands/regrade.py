"""``manage.py regrade [--scheme CODE] [--dry-run] [--show N]``: grades follow the rules now (ARC-4).

The nightly job does the same at 01:30 Beijing time; this is for after a threshold change or an
import. ``--dry-run`` lists who would change and writes nothing (PLT-11)."""

from django.core.management.base import BaseCommand, CommandError

from kestrel.core.errors import KestrelError
from kestrel.customers import grading


class Command(BaseCommand):
    help = "Regrade customers by the rules of every computed grade scheme (or one)."

    def add_arguments(self, parser):
        parser.add_argument("--scheme", help="One scheme code; every scheme if absent.")
        parser.add_argument("--dry-run", action="store_true", help="Show who would change; write nothing.")
        parser.add_argument("--show", type=int, default=20, help="Changes to list per scheme (default 20).")

    def handle(self, *args, scheme, dry_run, show, **options):
        try:
            schemes = [grading.scheme_get(code=scheme)] if scheme else None
            report = grading.customers_regrade(
                actor=None, schemes=schemes, dry_run=dry_run, preview_limit=max(show, 0)
            )
        except KestrelError as error:
            raise CommandError(f"{error.message} ({error.code})") from error
        for result in report.schemes:
            if result.skipped:
                self.stdout.write(f"{result.scheme}: skipped — {result.skipped}")
                continue
            verb = "would change" if dry_run else "changed"
            self.stdout.write(f"{result.scheme}: {result.changed} {verb}, {result.downgraded} downgraded")
            for change in result.changes:
                self.stdout.write(
                    f"  #{change.customer_id} {change.customer_name}: "
                    f"{change.from_grade or '-'} → {change.to_grade or '-'}  ({change.explanation})"
                )
