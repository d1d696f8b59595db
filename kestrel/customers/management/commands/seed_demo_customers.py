import time

from django.core.management.base import BaseCommand

from kestrel.customers.demo import customers_demo_seed


class Command(BaseCommand):
    help = (
        "Top the demo customers up to N (faker zh_CN names, valid credit codes, regions, contacts, "
        "grades; bulk inserts, a million in minutes). Needs the demo company: "
        "`kestrel seed-demo --customers N` runs both."
    )

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, metavar="N", help="how many demo customers there should be")

    def handle(self, *args, **options):
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  客户 (customers) {done}/{total}  {time.monotonic() - started:.0f}s")

        result = customers_demo_seed(count=options["count"], progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"示范客户 (demo customers): 新建 {result['created']}, 共 {result['total']}"
                f" ({time.monotonic() - started:.1f}s)"
            )
        )
