"""Test-wide settings: plain static storage (no collectstatic needed) and fast password hashing."""

import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(autouse=True, scope="session")
def _jobs_run_inline():
    """Background jobs run inline in tests (huey's immediate mode, in-memory queue); the jobs app's own
    tests start real worker processes where a real queue matters."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
