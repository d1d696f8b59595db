"""PLT-1, property-based: whatever sequence of creates and moves, the materialised paths and depths
agree with the parent links, cycles are refused, and subtree queries return exactly the subtree."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kestrel.core.errors import ValidationFailed
from kestrel.org import services
from kestrel.org.models import Department
from kestrel.org.selectors import department_subtree
from kestrel.org.tests.factories import company_root

pytestmark = pytest.mark.django_db

# Node i (1..n) is created under a node with a smaller index (0 is this example's own top).
trees = st.integers(min_value=2, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.integers(min_value=0, max_value=n), min_size=n, max_size=n),
        st.lists(st.tuples(st.integers(1, n), st.integers(0, n)), max_size=12),
    )
)


def _descendants(parent_of: dict[int, int], node: int) -> set[int]:
    found = {node}
    changed = True
    while changed:
        changed = False
        for child, parent in parent_of.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees)
def test_plt1_paths_follow_parents_through_any_moves(db, tree):
    n, parent_choices, moves = tree
    top = services.department_create(
        actor=None, name=f"例{Department.objects.count()}", parent=company_root(), kind="region"
    )
    nodes = {0: top}
    parent_of: dict[int, int] = {}
    for index in range(1, n + 1):
        parent = parent_choices[index - 1] % index  # an earlier node: a tree by construction
        nodes[index] = services.department_create(actor=None, name=f"节点{index}", parent=nodes[parent])
        parent_of[index] = parent

    for node, new_parent in moves:
        department = Department.objects.get(pk=nodes[node].pk)
        target = Department.objects.get(pk=nodes[new_parent].pk)
        if new_parent in _descendants(parent_of, node):
            with pytest.raises(ValidationFailed) as refused:
                services.department_update(actor=None, department=department, parent=target)
            assert refused.value.code == "department_cycle"
        else:
            services.department_update(actor=None, department=department, parent=target)
            parent_of[node] = new_parent

    by_pk = {d.pk: d for d in Department.objects.filter(path__startswith=top.path)}
    assert len(by_pk) == n + 1
    for index, department in nodes.items():
        current = by_pk[department.pk]
        if index == 0:
            continue
        parent = by_pk[nodes[parent_of[index]].pk]
        assert current.parent_id == parent.pk
        assert current.path == f"{parent.path}{current.pk}/"
        assert current.depth == parent.depth + 1
        expected_subtree = {nodes[i].pk for i in _descendants(parent_of, index)}
        assert set(department_subtree(department=current).values_list("pk", flat=True)) == expected_subtree


def test_plt1_a_tree_too_deep_for_the_path_column_is_refused():
    parent = company_root()
    while len(parent.path) < 1000 - 40:
        parent = services.department_create(actor=None, name="深", parent=parent)
    with pytest.raises(ValidationFailed) as refused:
        for _level in range(10):
            parent = services.department_create(actor=None, name="深", parent=parent)
    assert refused.value.code == "department_too_deep"
    # A move that would push a subtree past the limit is refused as well, and nothing moves.
    branch = services.department_create(actor=None, name="枝", parent=company_root())
    leaf = services.department_create(actor=None, name="叶", parent=branch)
    with pytest.raises(ValidationFailed):
        services.department_update(actor=None, department=branch, parent=parent)
    leaf.refresh_from_db()
    assert leaf.path == f"{company_root().path}{branch.pk}/{leaf.pk}/"
