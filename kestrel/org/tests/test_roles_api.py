"""PLT-2: roles through /api/v1/roles — a data scope per role, function permissions separate from it,
and nobody hands out a permission they do not hold."""

import pytest

from kestrel.core.scope import DataScope
from kestrel.org.models import Role
from kestrel.org.tests.factories import READ_ORG, EmployeeFactory, RoleFactory
from kestrel.org.tests.fixtures import ApiClient, assert_error, token_for

pytestmark = pytest.mark.django_db


def _role_manager(org, *extra: str, scope: DataScope = DataScope.ALL) -> ApiClient:
    """A non-superuser who may manage roles and holds ``extra`` permissions besides."""
    employee = org.employees["gm"]
    employee.roles.set(
        [RoleFactory(data_scope=scope, permissions=[*READ_ORG, "org.add_role", "org.change_role", *extra])]
    )
    return ApiClient(token_for(employee.user))


@pytest.mark.parametrize("scope", [s for s in DataScope.values if s != DataScope.DEPARTMENTS])
def test_plt2_role_create_with_each_scope_kind(api, scope):
    response = api.post(
        "/roles", {"name": f"角色-{scope}", "data_scope": scope, "permissions": ["org.view_employee"]}
    )
    assert response.status_code == 201, response.content
    role = response.json()
    assert role["data_scope"] == scope
    assert role["permissions"] == ["org.view_employee"]
    assert role["department_ids"] == []
    assert api.get(f"/roles/{role['id']}").json() == role


def test_plt2_role_with_listed_departments(api, org):
    wanted = [org.departments["sh"].pk, org.departments["bj_a"].pk]
    response = api.post(
        "/roles",
        {
            "name": "两地客服",
            "data_scope": "departments",
            "department_ids": wanted,
            "permissions": ["org.view_role", "org.view_employee"],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["department_ids"] == sorted(wanted)
    assert response.json()["permissions"] == ["org.view_employee", "org.view_role"]


def test_plt2_listed_departments_scope_needs_departments(api, org):
    assert_error(
        api.post("/roles", {"name": "空", "data_scope": "departments"}),
        422,
        "role_scope_departments_required",
    )
    role = RoleFactory(data_scope=DataScope.SELF)
    assert_error(
        api.patch(f"/roles/{role.pk}", {"data_scope": "departments"}), 422, "role_scope_departments_required"
    )
    # Other scopes ignore listed departments rather than keep stale ones.
    response = api.post(
        "/roles", {"name": "本部门", "data_scope": "department", "department_ids": [org.departments["sh"].pk]}
    )
    assert response.json()["department_ids"] == []
    listed = RoleFactory(data_scope=DataScope.DEPARTMENTS, departments=[org.departments["sh"]])
    assert api.patch(f"/roles/{listed.pk}", {"data_scope": "self"}).json()["department_ids"] == []


def test_plt2_role_validation_errors(api, org):
    assert_error(api.post("/roles", {"name": "x", "data_scope": "everything"}), 422, "validation_error")
    assert_error(api.post("/roles", {"name": "x"}), 422, "validation_error")
    body = assert_error(
        api.post("/roles", {"name": "x", "data_scope": "all", "permissions": ["org.fly_to_moon"]}),
        422,
        "unknown_permission",
    )
    assert body["details"]["permissions"] == ["org.fly_to_moon"]
    assert_error(
        api.post("/roles", {"name": "x", "data_scope": "all", "permissions": ["view_employee"]}),
        422,
        "unknown_permission",
    )
    assert_error(
        api.post("/roles", {"name": "x", "data_scope": "departments", "department_ids": [10**9]}),
        422,
        "unknown_department",
    )
    assert not Role.objects.filter(name="x").exists()


def test_plt2_role_names_are_unique(api):
    RoleFactory(name="销售代表")
    other = RoleFactory(name="客服")
    assert_error(api.post("/roles", {"name": "销售代表", "data_scope": "self"}), 409, "role_name_taken")
    assert_error(api.patch(f"/roles/{other.pk}", {"name": "销售代表"}), 409, "role_name_taken")


def test_plt2_no_privilege_escalation_through_roles(org):
    client = _role_manager(org)
    # Granting what one holds is fine …
    response = client.post(
        "/roles", {"name": "只读", "data_scope": "self", "permissions": ["org.view_employee"]}
    )
    assert response.status_code == 201, response.content
    # … granting what one lacks is not, neither on create nor on update.
    body = assert_error(
        client.post(
            "/roles", {"name": "删除者", "data_scope": "self", "permissions": ["org.delete_department"]}
        ),
        403,
        "privilege_escalation",
    )
    assert body["details"]["permissions"] == ["org.delete_department"]
    assert_error(
        client.patch(f"/roles/{response.json()['id']}", {"permissions": ["org.delete_department"]}),
        403,
        "privilege_escalation",
    )
    assert not Role.objects.filter(name="删除者").exists()


def test_plt2_no_privilege_escalation_through_role_assignment(org):
    hr = org.employees["gm"]
    hr.roles.set([RoleFactory(data_scope=DataScope.ALL, permissions=[*READ_ORG, "org.add_employee"])])
    client = ApiClient(token_for(hr.user))
    mighty = RoleFactory(permissions=["org.delete_department"])
    modest = RoleFactory(permissions=["org.view_employee"])
    department = org.departments["sh_a"].pk
    assert_error(
        client.post("/employees", {"name": "新人", "department_id": department, "role_ids": [mighty.pk]}),
        403,
        "privilege_escalation",
    )
    response = client.post(
        "/employees", {"name": "新人", "department_id": department, "role_ids": [modest.pk]}
    )
    assert response.status_code == 201, response.content


def test_plt2_role_in_use_cannot_be_deleted(api):
    used = RoleFactory()
    EmployeeFactory(roles=[used])
    unused = RoleFactory()
    body = assert_error(api.delete(f"/roles/{used.pk}"), 409, "role_in_use")
    assert body["details"] == {"employees": 1}
    assert api.delete(f"/roles/{unused.pk}").status_code == 204
    assert_error(api.get(f"/roles/{unused.pk}"), 404, "not_found")


def test_plt2_role_writes_need_function_permissions(org):
    reader = org.employees["sh_a_rep1"]
    reader.roles.set([RoleFactory()])
    client = ApiClient(token_for(reader.user))
    role = RoleFactory()
    assert client.get("/roles").status_code == 200
    assert_error(client.post("/roles", {"name": "x", "data_scope": "all"}), 403, "permission_denied")
    assert_error(client.patch(f"/roles/{role.pk}", {"name": "y"}), 403, "permission_denied")
    assert_error(client.delete(f"/roles/{role.pk}"), 403, "permission_denied")


def test_plt2_role_list_query_count_does_not_grow(api, org, django_assert_max_num_queries):
    RoleFactory(data_scope=DataScope.DEPARTMENTS, departments=[org.departments["sh"]])
    with django_assert_max_num_queries(8):
        small = api.get("/roles", {"page_size": 500}).json()
    added = {
        RoleFactory(
            data_scope=DataScope.DEPARTMENTS,
            departments=[org.departments["sh"], org.departments["bj"]],
            permissions=[*READ_ORG, "org.add_employee"],
        ).pk
        for _n in range(15)
    }
    with django_assert_max_num_queries(8):
        large = api.get("/roles", {"page_size": 500}).json()
    assert large["count"] == small["count"] + 15
    added_items = [r for r in large["items"] if r["id"] in added]
    assert [(len(r["permissions"]), len(r["department_ids"])) for r in added_items] == [(5, 2)] * 15


@pytest.fixture
def regional_admin(org):
    """The East regional manager: own region and below, and may manage roles and employees."""
    employee = org.employees["east_rm"]
    manage = ["org.add_role", "org.change_role", "org.add_employee", "org.change_employee"]
    employee.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT_TREE, permissions=[*READ_ORG, *manage])])
    return ApiClient(token_for(employee.user))


def test_plt2_no_data_scope_escalation_through_new_roles(org, regional_admin):
    everything = {"name": "全公司", "data_scope": "all"}
    assert_error(regional_admin.post("/roles", everything), 403, "privilege_escalation")
    north = {"name": "华北", "data_scope": "departments", "department_ids": [org.departments["bj"].pk]}
    assert_error(regional_admin.post("/roles", north), 403, "privilege_escalation")
    # Within one's own reach, and the relative scopes, are fine.
    east = {"name": "上海", "data_scope": "departments", "department_ids": [org.departments["sh"].pk]}
    assert regional_admin.post("/roles", east).status_code == 201
    assert regional_admin.post("/roles", {"name": "本部门", "data_scope": "department"}).status_code == 201


def test_plt2_no_data_scope_escalation_through_role_changes(org, regional_admin):
    role = RoleFactory(data_scope=DataScope.SELF)
    org.employees["sh_a_rep1"].roles.add(role)
    assert_error(
        regional_admin.patch(f"/roles/{role.pk}", {"data_scope": "all"}), 403, "privilege_escalation"
    )
    # The holder sits inside the East region: their own subtree is within reach.
    assert regional_admin.patch(f"/roles/{role.pk}", {"data_scope": "department_tree"}).status_code == 200
    # Held by someone in the North, the same change would reach beyond the East region.
    org.employees["bj_gm"].roles.add(role)
    assert_error(
        regional_admin.patch(f"/roles/{role.pk}", {"data_scope": "department"}), 403, "privilege_escalation"
    )
    assert Role.objects.get(pk=role.pk).data_scope == DataScope.DEPARTMENT_TREE


def test_plt2_no_data_scope_escalation_through_role_assignment(org, regional_admin):
    everything = RoleFactory(data_scope=DataScope.ALL)
    tree = RoleFactory(data_scope=DataScope.DEPARTMENT_TREE)
    me = org.employees["east_rm"]
    # Not to oneself, nor to anyone else.
    mine = [*me.roles.values_list("pk", flat=True), everything.pk]
    assert_error(regional_admin.patch(f"/employees/{me.pk}", {"role_ids": mine}), 403, "privilege_escalation")
    rep = org.employees["sh_a_rep1"]
    assert_error(
        regional_admin.patch(f"/employees/{rep.pk}", {"role_ids": [everything.pk]}),
        403,
        "privilege_escalation",
    )
    new = {"name": "新人", "department_id": org.departments["sh"].pk, "role_ids": [everything.pk]}
    assert_error(regional_admin.post("/employees", new), 403, "privilege_escalation")
    # Their own department and below, inside the region: fine.
    assert regional_admin.patch(f"/employees/{rep.pk}", {"role_ids": [tree.pk]}).status_code == 200
    # Roles already held (granted by an administrator) do not block other edits.
    rep.roles.add(everything)
    assert regional_admin.patch(f"/employees/{rep.pk}", {"name": "改名"}).status_code == 200
    kept = [tree.pk, everything.pk]
    assert regional_admin.patch(f"/employees/{rep.pk}", {"role_ids": kept}).status_code == 200
