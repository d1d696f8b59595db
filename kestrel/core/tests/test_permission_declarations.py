"""PLT-2/PLT-8: every API operation declares its function permissions explicitly (``@requires``,
``@authenticated`` or ``@public``), so no endpoint can be added that forgets them."""

import pytest
from django.contrib.auth.models import Permission

from kestrel.api import api
from kestrel.core.permissions import declared_permissions

MARKERS = {"public", "authenticated"}


def _operations():
    """(method, path, view function) for every operation mounted on the one NinjaAPI."""
    found = []
    # Bound routers carry the operations as served: auth and decorators applied (ninja 1.7).
    for router in api._get_bound_routers():
        prefix = router.prefix
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.append((method, f"{prefix.rstrip('/')}/{path.lstrip('/')}", operation))
    return found


OPERATIONS = [(method, path, operation.view_func) for method, path, operation in _operations()]


def test_plt2_the_walk_finds_the_operations():
    paths = {(method, path) for method, path, _view in OPERATIONS}
    assert {("POST", "/auth/token"), ("GET", "/employees"), ("DELETE", "/roles/{int:role_id}")} <= paths


@pytest.mark.parametrize(("method", "path", "view"), OPERATIONS, ids=[f"{m} {p}" for m, p, _v in OPERATIONS])
def test_plt2_every_operation_declares_its_permissions(method, path, view):
    declared = declared_permissions(view)
    assert declared, (
        f"{method} {path} ({view.__module__}.{view.__name__}) has no @requires/@authenticated/@public"
    )
    if set(declared) & MARKERS:
        assert len(declared) == 1, f"{method} {path}: public/authenticated cannot be mixed with permissions"


@pytest.mark.django_db
def test_plt2_every_declared_permission_exists():
    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    declared = {code for _m, _p, view in OPERATIONS for code in declared_permissions(view) or ()}
    assert declared - MARKERS - existing == set()


def test_plt2_only_the_token_endpoint_is_public():
    public = {(m, p) for m, p, view in OPERATIONS if declared_permissions(view) == ("public",)}
    assert public == {("POST", "/auth/token")}


@pytest.mark.parametrize(
    ("method", "path", "operation"), _operations(), ids=[f"{m} {p}" for m, p, _o in _operations()]
)
def test_plt2_only_public_operations_skip_authentication(method, path, operation):
    # A declaration alone enforces nothing about the caller's identity; the API's auth does.
    is_public = declared_permissions(operation.view_func) == ("public",)
    assert bool(operation.auth_callbacks) != is_public, f"{method} {path}"
