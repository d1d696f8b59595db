"""``kestrel export customers FILE`` / ``kestrel export contacts FILE`` (ARC-11)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kestrel.core.errors import KestrelError
from kestrel.customers.exporting import contacts_export, customers_export


def acting_user(username: str | None):
    """``--as USERNAME``, else the first active superuser (the CLI is an administrator's tool)."""
    users = get_user_model().objects.filter(is_active=True)
    user = (
        users.filter(username=username).first()
        if username
        else users.filter(is_superuser=True).order_by("pk").first()
    )
    if user is None:
        raise CommandError(
            f"没有此用户 (no such active user): {username}"
            if username
            else "请用 --as USERNAME 指定操作人 (no superuser; name the acting user with --as)"
        )
    return user


class Command(BaseCommand):
    help = "Export customers or contacts to .xlsx or .csv (by the file's extension)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["customers", "contacts"])
        parser.add_argument("file")
        parser.add_argument("--as", dest="username", help="The acting user (data scope and masking apply).")

    def handle(self, *args, kind, file, username, **options):
        path = Path(file)
        format = path.suffix.lower().lstrip(".")
        if format not in {"xlsx", "csv"}:
            raise CommandError(f"请使用 .xlsx 或 .csv 文件名 (name the file .xlsx or .csv): {path}")
        if not path.parent.is_dir():
            raise CommandError(f"目录不存在 (no such directory): {path.parent}")
        user = acting_user(username)
        export = customers_export if kind == "customers" else contacts_export
        try:
            with path.open("wb") as target:
                count = export(actor=user, target=target, format=format)
        except KestrelError as error:
            path.unlink(missing_ok=True)
            raise CommandError(f"{error.message} ({error.code})") from error
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 行 (rows exported) → {path}"))
