import argparse
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Kestrel with waitress, a production WSGI server (not Django's runserver)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("KESTREL_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("KESTREL_PORT", "8000")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("KESTREL_THREADS", "8")))
        parser.add_argument("--no-collectstatic", action="store_true", help="Skip collecting static files.")
        parser.add_argument(
            "--worker",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Also run the background-job worker as a child process "
            "(default: on in the embedded setup, off in production where workers run separately).",
        )

    def handle(self, *args, host, port, threads, no_collectstatic, worker, **options):
        if not 0 < port < 65536:
            raise CommandError(f"端口无效 (invalid port): {port}")
        if not no_collectstatic and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        from waitress import serve

        from kestrel.wsgi import application

        child = None
        if worker if worker is not None else not settings.PRODUCTION:
            # The embedded setup needs no second command: the worker lives and dies with the server.
            child = subprocess.Popen([sys.executable, "-m", "kestrel", "worker"])
            self.stdout.write(f"Background-job worker started (pid {child.pid}).")
        self.stdout.write(f"Kestrel 客隼 serving on http://{host}:{port}/ (waitress, {threads} threads)")
        # systemd and container runtimes stop services with SIGTERM: leave through `finally`, so the
        # worker child is stopped too instead of being orphaned.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            serve(application, host=host, port=port, threads=threads, ident="kestrel")
        finally:
            if child is not None:
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()


def _exit_on_sigterm(signum, frame):
    raise SystemExit(0)
