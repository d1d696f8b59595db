from django.core.management import call_command
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
            # The customers app's own command: org sits below customers and does not import it.
            call_command("seed_demo_customers", options["customers"], stdout=self.stdout)
        self.stdout.write(
            f"示范账号 (demo logins): gm, director, rm1, sh_gm, sh_sm, sh_rep1, hr, it … 密码 {DEMO_PASSWORD}"
        )
