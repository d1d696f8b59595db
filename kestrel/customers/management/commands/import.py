"""``kestrel import customers FILE`` / ``kestrel import contacts FILE`` (ARC-11)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kestrel.core.errors import KestrelError
from kestrel.customers.importing import CONTACT_MATCH_KEYS, MATCH_KEYS, customers_import
from kestrel.customers.management.commands.export import acting_user
from kestrel.customers.models import ImportJob

REPORT_LINES = 200


class Command(BaseCommand):
    help = "Import customers or contacts from .xlsx or .csv (dry run with --dry-run)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["customers", "contacts"])
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the good rows and skip the bad ones."
        )
        parser.add_argument("--mode", choices=ImportJob.Mode.values, default=ImportJob.Mode.CREATE)
        parser.add_argument(
            "--key",
            choices=sorted(MATCH_KEYS | CONTACT_MATCH_KEYS),
            default="",
            help="Match existing records on: code, credit_code or name_phone (contacts: name_mobile).",
        )
        parser.add_argument("--as", dest="username", help="The acting user (data scope applies).")

    def handle(self, *args, kind, file, dry_run, skip_invalid, mode, key, username, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在 (no such file): {path}")
        user = acting_user(username)
        verbosity = options.get("verbosity", 1)

        def progress(done: int, total: int, phase: str) -> None:
            if verbosity:
                label = "检查 (checking)" if phase == "check" else "写入 (writing)"
                self.stderr.write(f"\r{label}: {done}/{total}", ending="")
                self.stderr.flush()

        try:
            job = customers_import(
                actor=user,
                path_or_file=path,
                file_name=path.name,
                kind=kind,
                mode=mode,
                match_key=key,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=progress,
            )
        except KestrelError as error:
            raise CommandError(f"{error.message} ({error.code})") from error
        if verbosity:
            self.stderr.write("")
        for entry in job.report[:REPORT_LINES]:
            where = f"第 {entry['row']} 行" if entry["row"] else "文件"
            column = f" [{entry['column']}]" if entry["column"] else ""
            value = f" “{entry['value']}”" if entry["value"] else ""
            self.stdout.write(f"{entry['level']} {where}{column}{value}: {entry['reason']}")
        if len(job.report) > REPORT_LINES:
            self.stdout.write(f"… 另有 {len(job.report) - REPORT_LINES} 条 (more entries)")
        summary = (
            f"共 {job.total_rows} 行 (rows), 错误行 {job.error_count} (bad rows), "
            f"新增 {job.created_count} (created), 更新 {job.updated_count} (updated)"
        )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"未导入任何数据 (nothing was imported). {summary}")
        if job.status == ImportJob.Status.CHECKED:
            self.stdout.write(f"试导入完成，未写入 (dry run, nothing written). {summary}")
            if job.error_count:
                raise CommandError(f"文件有 {job.error_count} 行错误 (the file has bad rows)")
            return
        self.stdout.write(self.style.SUCCESS(f"导入完成 (imported). {summary}"))
