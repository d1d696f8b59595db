from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kestrel.core.errors import KestrelError
from kestrel.workdays.selectors import WorkCalendar
from kestrel.workdays.services import calendar_import_csv


class Command(BaseCommand):
    help = "The working-day calendar: import holidays/adjusted workdays from CSV, or show a year."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("import", help="Load a CSV file with the header date,kind,name.")
        load.add_argument("file")
        show = actions.add_parser(
            "show", help="List the non-working weekdays and working weekend days of a year."
        )
        show.add_argument("year", type=int)

    def handle(self, *args, action, **options):
        if action == "import":
            self._import(Path(options["file"]))
        else:
            self._show(options["year"])

    def _import(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"文件不存在 (no such file): {path}")
        try:
            result = calendar_import_csv(actor=None, content=path.read_bytes())
        except KestrelError as error:
            lines = [error.message]
            for row in error.details.get("errors", []) if isinstance(error.details, dict) else []:
                where = f"第 {row['line']} 行 (line {row['line']})"
                column = f" [{row['column']}]" if row.get("column") else ""
                value = f" “{row['value']}”" if row.get("value") else ""
                lines.append(f"  {where}{column}{value}: {row['reason']}")
            raise CommandError("\n".join(lines)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入 (imported): 新增 {result.created}, 更新 {result.updated}; "
                f"年份 (years): {', '.join(map(str, result.years)) or '-'}"
            )
        )

    def _show(self, year: int) -> None:
        from datetime import date, timedelta

        if not 1900 <= year <= 2200:
            raise CommandError(f"年份无效 (invalid year): {year}")
        calendar = WorkCalendar()
        if not calendar.is_covered(year):
            self.stdout.write(
                self.style.WARNING(f"{year} 年没有节假日数据，按周一至周五计算 (no data: Mon–Fri)")
            )
        day = date(year, 1, 1)
        while day.year == year:
            workday = calendar.is_workday(day)
            if workday == (day.weekday() >= 5):
                self.stdout.write(f"{day:%Y-%m-%d} {'上班 workday' if workday else '休息 holiday'}")
            day += timedelta(days=1)
