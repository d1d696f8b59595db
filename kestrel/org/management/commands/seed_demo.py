import time

from django.core.management.base import BaseCommand

from kestrel.org.demo import DEMO_PASSWORD, demo_company_seed


class Command(BaseCommand):
    help = (
        "Load the demo company (3 regions, 6 branches, ~40 employees, a role per data scope). Idempotent. "
        "--customers N tops the demo customer base up to N customers (bulk inserts; a million in minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            metavar="N",
            help="top the demo customers up to N (faker zh_CN names, valid credit codes, contacts, grades)",
        )

    def handle(self, *args, **options):
        counts = demo_company_seed()
        summary = "示范数据就绪 (demo data ready): {departments} 个部门, {employees} 名员工, {roles} 个角色"
        self.stdout.write(self.style.SUCCESS(summary.format(**counts)))
        if options["customers"] > 0:
            from kestrel.customers.demo import customers_demo_seed

            started = time.monotonic()

            def progress(done: int, total: int) -> None:
                self.stdout.write(f"  客户 (customers) {done}/{total}  {time.monotonic() - started:.0f}s")

            result = customers_demo_seed(count=options["customers"], progress=progress)
            self.stdout.write(
                self.style.SUCCESS(
                    f"示范客户 (demo customers): 新建 {result['created']}, 共 {result['total']}"
                    f" ({time.monotonic() - started:.1f}s)"
                )
            )
        self.stdout.write(
            f"示范账号 (demo logins): gm, director, rm1, sh_gm, sh_sm, sh_rep1, hr, it … 密码 {DEMO_PASSWORD}"
        )
