"""Shared API and org fixtures; see kestrel/org/tests/fixtures.py."""

from kestrel.org.tests.fixtures import *  # noqa: F403
