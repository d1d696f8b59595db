"""PLT-2: the data-scope matrix. For every scope kind (and their unions), exactly the expected
employees through the API list, detail (404, not 403, for the invisible) and search."""

import pytest
from django.contrib.auth.models import Group, Permission

from kestrel.core.scope import NO_REACH, DataScope, reach_for
from kestrel.org.models import Employee
from kestrel.org.tests.factories import READ_ORG, RoleFactory, UserFactory
from kestrel.org.tests.fixtures import STAFF, ApiClient, assert_error, token_for

pytestmark = pytest.mark.django_db

ALL = DataScope.ALL
DEPARTMENTS = DataScope.DEPARTMENTS
DEPARTMENT = DataScope.DEPARTMENT
TREE = DataScope.DEPARTMENT_TREE
SELF = DataScope.SELF

EVERYONE = {key for key, _department in STAFF}
SH_TREE = {"sh_gm", "sh_a_lead", "sh_a_rep1", "sh_a_rep2", "sh_b_rep1"}
EAST_TREE = {"east_rm", "hz_gm", "hz_a_rep1", *SH_TREE}

# (viewer, the scopes of the viewer's roles, the employees the viewer sees)
MATRIX = {
    "all": ("sh_a_rep1", [ALL], EVERYONE),
    "department": ("sh_a_rep1", [DEPARTMENT], {"sh_a_lead", "sh_a_rep1", "sh_a_rep2"}),
    "department_of_a_branch_is_not_its_teams": ("sh_gm", [DEPARTMENT], {"sh_gm"}),
    "department_tree_of_a_branch": ("sh_gm", [TREE], SH_TREE),
    "department_tree_of_a_region": ("east_rm", [TREE], EAST_TREE),
    "department_tree_of_the_company": ("gm", [TREE], EVERYONE),
    # Listed departments are those departments only, not their sub-departments; self is always in.
    "departments": ("sh_a_rep1", [(DEPARTMENTS, ["hz_a", "bj"])], {"sh_a_rep1", "hz_a_rep1", "bj_gm"}),
    "self": ("sh_a_rep1", [SELF], {"sh_a_rep1"}),
    "union_self_and_departments": ("bj_a_rep1", [SELF, (DEPARTMENTS, ["sh_b"])], {"bj_a_rep1", "sh_b_rep1"}),
    "union_department_and_departments": (
        "sh_a_rep1",
        [DEPARTMENT, (DEPARTMENTS, ["bj_a"])],
        {"sh_a_lead", "sh_a_rep1", "sh_a_rep2", "bj_a_rep1", "bj_a_rep2"},
    ),
    "union_overlapping_tree_and_departments": ("east_rm", [TREE, (DEPARTMENTS, ["sh_a", "hz"])], EAST_TREE),
    "union_two_trees": ("hz_gm", [TREE, TREE], {"hz_gm", "hz_a_rep1"}),
    "union_with_all": ("bj_a_rep1", [SELF, ALL], EVERYONE),
}


def _listed_keys(org, client: ApiClient, **params) -> set[str]:
    response = client.get("/employees", {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [item["id"] for item in body["items"]]
    assert len(ids) == len(set(ids)) == body["count"]  # no duplicates from unions of scopes
    return {org.key_of(i) for i in ids}


def _assert_sees_exactly(org, client: ApiClient, expected: set[str]) -> None:
    # List
    assert _listed_keys(org, client) == expected
    # Detail: visible → 200; invisible → the same 404 as an id that does not exist.
    missing = assert_error(client.get("/employees/999999"), 404, "not_found")
    for key, employee in org.employees.items():
        response = client.get(f"/employees/{employee.pk}")
        if key in expected:
            assert response.status_code == 200, (key, response.content)
            assert response.json()["id"] == employee.pk
        else:
            body = assert_error(response, 404, "not_found")
            assert body["message"] == missing["message"], key
    # Search: the sales reps (named 销售…), and each employee by username.
    reps = {key for key in EVERYONE if "_rep" in key}
    assert _listed_keys(org, client, q="销售") == expected & reps
    for key in ("sh_a_rep2", "bj_gm"):
        assert _listed_keys(org, client, q=key) == expected & {key}
    # Filtering by an invisible part of the tree shows nothing more than scope allows.
    hq = org.departments["hq"].pk
    assert _listed_keys(org, client, department_id=hq, include_subdepartments=True) == expected


@pytest.mark.parametrize("case", MATRIX.keys())
def test_plt2_scope_matrix_list_detail_and_search(org, case):
    viewer_key, scopes, expected = MATRIX[case]
    viewer = org.viewer(viewer_key, *scopes)
    _assert_sees_exactly(org, ApiClient(token_for(viewer.user)), expected)


def test_plt2_superuser_without_employee_record_sees_everyone(org, api):
    _assert_sees_exactly(org, api, EVERYONE)


def test_plt2_user_without_employee_record_sees_nothing(org):
    # Function permissions through a Django group, but no employee record → no data scope at all.
    user = UserFactory()
    group = Group.objects.create(name="只读")
    group.permissions.set(Permission.objects.filter(codename__in=[c.split(".")[1] for c in READ_ORG]))
    user.groups.add(group)
    _assert_sees_exactly(org, ApiClient(token_for(user)), set())


def test_plt2_employee_without_roles_has_no_permission_and_no_scope(org):
    client = ApiClient(token_for(org.employees["sh_a_rep1"].user))
    assert_error(client.get("/employees"), 403, "permission_denied")
    assert reach_for(org.employees["sh_a_rep1"].user).department_ids == frozenset()


def test_plt2_departed_employee_sees_nothing_and_cannot_get_a_token(org, api):
    viewer = org.viewer("gm", ALL)
    client = ApiClient(token_for(viewer.user))
    assert client.get("/employees").status_code == 200

    response = api.patch(f"/employees/{viewer.pk}", {"status": "departed"})
    assert response.status_code == 200, response.content

    # The token issued before stops working, and no new one is issued.
    assert_error(client.get("/employees"), 401)
    login = ApiClient().post("/auth/token", {"username": "gm", "password": "Kestrel-test-2026!"})
    assert_error(login, 401, "authentication_failed")
    # Even were the login re-enabled by hand, a departed employee's roles give no data scope.
    viewer.user.refresh_from_db()
    viewer.user.is_active = True
    viewer.user.save(update_fields=["is_active"])
    assert reach_for(viewer.user) == NO_REACH


def test_plt2_writes_to_invisible_employees_are_404_not_403(org):
    viewer = org.employees["sh_a_rep1"]
    viewer.roles.set(
        [
            RoleFactory(
                data_scope=DEPARTMENT,
                permissions=[*READ_ORG, "org.change_employee", "org.delete_employee"],
            )
        ]
    )
    client = ApiClient(token_for(viewer.user))
    outsider = org.employees["bj_a_rep1"]
    assert_error(client.patch(f"/employees/{outsider.pk}", {"name": "改名"}), 404, "not_found")
    assert_error(client.delete(f"/employees/{outsider.pk}"), 404, "not_found")
    assert Employee.objects.filter(pk=outsider.pk, name=outsider.name).exists()
    colleague = org.employees["sh_a_rep2"]
    assert client.patch(f"/employees/{colleague.pk}", {"name": "改名"}).status_code == 200


def test_plt2_visible_to_is_one_query_with_a_subselect(org, django_assert_num_queries):
    viewer = org.viewer("east_rm", TREE, (DEPARTMENTS, ["bj_a"]))
    reach_for(viewer.user)  # computed once per request and cached on the user
    with django_assert_num_queries(1):
        keys = {org.key_of(e.pk) for e in Employee.objects.visible_to(viewer.user)}
    assert keys == EAST_TREE | {"bj_a_rep1", "bj_a_rep2"}
