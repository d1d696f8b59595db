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

    def handle(self, *args, workers, **options):
        from huey.contrib.djhuey import HUEY

        autodiscover_modules("tasks")
        consumer_options = dict(settings.HUEY.get("consumer", {}))
        if workers:
            consumer_options["workers"] = workers
        config = ConsumerConfig(**consumer_options)
        config.validate()
        backend = "Redis" if settings.REDIS_URL else "SQLite"
        self.stdout.write(f"Kestrel 客隼 worker: {config.workers} threads, queue on {backend}")
        self.stdout.flush()
        HUEY.create_consumer(**config.values).run()
