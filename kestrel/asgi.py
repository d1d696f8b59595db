import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kestrel.settings")
application = get_asgi_application()

from kestrel.core.runtime import startup_objects_frozen  # noqa: E402 — needs the settings loaded

startup_objects_frozen()
