from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig


class Command(BaseCommand):
    help = "Run the background-job worker (huey consumer) with periodic tasks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=None, help="Worker threads (default KESTREL_WORKERS or 2)."
        )

        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="Do not enqueue periodic tasks (run it on all production workers but one).",
        )

    def handle(self, *args, workers, no_periodic, **options):
        from huey.contrib.djhuey import HUEY

        autodiscover_modules("tasks")
        consumer_options = dict(settings.HUEY.get("consumer", {}))
        if workers:
            consumer_options["workers"] = workers
        if no_periodic:
            consumer_options["periodic"] = False
        config = ConsumerConfig(**consumer_options)
        config.validate()
        backend = "Redis" if settings.REDIS_URL else "SQLite"
        periodic = "with" if config.periodic else "without"
        self.stdout.write(
            f"Kestrel 客隼 worker: {config.workers} threads, queue on {backend}, {periodic} periodic tasks"
        )
        self.stdout.flush()
        HUEY.create_consumer(**config.values).run()
