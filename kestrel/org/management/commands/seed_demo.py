from django.core.management.base import BaseCommand

from kestrel.org.demo import DEMO_PASSWORD, demo_company_seed


class Command(BaseCommand):
    help = "Load the demo company (3 regions, 6 branches, ~40 employees, a role per data scope). Idempotent."

    def handle(self, *args, **options):
        counts = demo_company_seed()
        summary = "示范数据就绪 (demo data ready): {departments} 个部门, {employees} 名员工, {roles} 个角色"
        self.stdout.write(self.style.SUCCESS(summary.format(**counts)))
        self.stdout.write(
            f"示范账号 (demo logins): gm, director, rm1, sh_gm, sh_sm, sh_rep1, hr, it … 密码 {DEMO_PASSWORD}"
        )
