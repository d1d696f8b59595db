"""Setting up a serving process (kestrel/wsgi.py, kestrel/asgi.py, the benchmarks)."""

import gc


def startup_objects_frozen() -> None:
    """Import everything a request uses (the URLconf, and with it every view, schema and the pinyin
    dictionaries), then move every object alive now into the garbage collector's permanent generation.

    Those ~300,000 objects live as long as the process; without this each full collection walks them
    all again, a pause of ≈ 140 ms in whichever request triggers it (measured on the demo at 1M
    customers, benchmarks/RESULTS.md). Objects made later are collected as before."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — importing is the point
    gc.collect()
    gc.freeze()
