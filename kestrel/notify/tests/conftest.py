from kestrel.org.tests.fixtures import *  # noqa: F403
