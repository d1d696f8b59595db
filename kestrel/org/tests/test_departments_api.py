"""PLT-1: the department tree through /api/v1/departments — materialised paths, moves, cycles and
the rules for deleting. Data scope: the tree is structure, readable with org.view_department."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kestrel.org import services
from kestrel.org.models import Department
from kestrel.org.tests.factories import DepartmentFactory, EmployeeFactory, RoleFactory, company_root
from kestrel.org.tests.fixtures import ApiClient, assert_error, token_for

pytestmark = pytest.mark.django_db


def _chain(parent: Department, length: int) -> list[Department]:
    chain = []
    for level in range(length):
        parent = DepartmentFactory(name=f"层{level}", parent=parent)
        chain.append(parent)
    return chain


def test_plt1_department_create_sets_materialised_path_and_depth(api):
    root = company_root()
    response = api.post("/departments", {"name": "华东大区", "parent_id": root.pk, "kind": "region"})
    assert response.status_code == 201, response.content
    region = response.json()
    assert region["path"] == f"/{root.pk}/{region['id']}/"
    assert region["depth"] == 1
    assert region["parent_id"] == root.pk

    branch = api.post("/departments", {"name": "上海分公司", "parent_id": region["id"]}).json()
    assert branch["path"] == f"{region['path']}{branch['id']}/"
    assert branch["depth"] == 2
    assert api.get(f"/departments/{branch['id']}").json() == branch


def test_plt1_department_list_filters_by_parent_and_name(api, org):
    listed = api.get("/departments", {"parent_id": org.departments["east"].pk}).json()
    assert {d["name"] for d in listed["items"]} == {"sh部", "hz部"}
    assert listed["count"] == 2
    assert [d["name"] for d in api.get("/departments", {"q": "bj"}).json()["items"]] == ["bj部", "bj_a部"]
    # Lists come in tree order (by path), so a parent always precedes its children.
    paths = [d["path"] for d in api.get("/departments", {"page_size": 500}).json()["items"]]
    assert paths == sorted(paths)


def test_plt1_moving_a_subtree_updates_all_paths_in_one_update(api):
    root = company_root()
    target = DepartmentFactory(name="目标", parent=root)
    moved, *below = _chain(DepartmentFactory(name="原处", parent=root), 4)
    sibling = DepartmentFactory(name="旁支", parent=below[0])

    with CaptureQueriesContext(connection) as queries:
        response = api.patch(f"/departments/{moved.pk}", {"parent_id": target.pk})
    assert response.status_code == 200, response.content
    path_updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "path" in q["sql"]
    ]
    assert len(path_updates) == 1, path_updates  # one set-based UPDATE, however large the subtree

    expected_path = f"{target.path}{moved.pk}/"
    assert response.json()["path"] == expected_path
    parent_path, parent_depth = expected_path, target.depth + 1
    for department in below:
        department.refresh_from_db()
        assert department.path == f"{parent_path}{department.pk}/"
        assert department.depth == parent_depth + 1
        parent_path, parent_depth = department.path, department.depth
    sibling.refresh_from_db()
    assert sibling.path == f"{below[0].path}{sibling.pk}/"
    assert sibling.depth == below[0].depth + 1
    # Subtree queries follow the new path.
    assert set(services.Department.objects.filter(path__startswith=target.path)) == {
        target,
        moved,
        *below,
        sibling,
    }


@pytest.mark.parametrize("under", ["itself", "child", "grandchild"])
def test_plt1_moving_a_department_under_itself_or_a_descendant_is_a_cycle(api, under):
    top, child, grandchild = _chain(company_root(), 3)
    new_parent = {"itself": top, "child": child, "grandchild": grandchild}[under]
    body = assert_error(
        api.patch(f"/departments/{top.pk}", {"parent_id": new_parent.pk}), 422, "department_cycle"
    )
    assert "parent_id" in body["details"]
    grandchild.refresh_from_db()
    assert grandchild.path == f"{top.path}{child.pk}/{grandchild.pk}/"


def test_plt1_only_one_root_department(api):
    root = company_root()
    assert_error(api.post("/departments", {"name": "第二家公司"}), 422, "root_department_exists")
    child = DepartmentFactory(parent=root)
    assert_error(api.patch(f"/departments/{child.pk}", {"parent_id": None}), 422, "root_department_exists")


def test_plt1_sibling_names_are_unique(api):
    root = company_root()
    east = DepartmentFactory(name="华东", parent=root)
    north = DepartmentFactory(name="华北", parent=root)
    DepartmentFactory(name="销售部", parent=east)
    north_sales = DepartmentFactory(name="销售部", parent=north)  # same name under another parent: fine

    assert_error(
        api.post("/departments", {"name": "销售部", "parent_id": east.pk}), 409, "department_name_taken"
    )
    assert_error(api.patch(f"/departments/{north.pk}", {"name": "华东"}), 409, "department_name_taken")
    # Moving into a parent that already has a child of that name is refused, and nothing moves.
    assert_error(
        api.patch(f"/departments/{north_sales.pk}", {"parent_id": east.pk}), 409, "department_name_taken"
    )
    north_sales.refresh_from_db()
    assert north_sales.parent_id == north.pk
    assert north_sales.path == f"{north.path}{north_sales.pk}/"


def test_plt1_delete_department_with_employees_or_children_is_refused(api):
    root = company_root()
    with_children = DepartmentFactory(parent=root)
    DepartmentFactory(parent=with_children)
    with_staff = DepartmentFactory(parent=root)
    EmployeeFactory(department=with_staff)
    empty = DepartmentFactory(parent=root)

    body = assert_error(api.delete(f"/departments/{with_children.pk}"), 409, "department_not_empty")
    assert body["details"] == {"employees": 0, "sub_departments": 1}
    body = assert_error(api.delete(f"/departments/{with_staff.pk}"), 409, "department_not_empty")
    assert body["details"] == {"employees": 1, "sub_departments": 0}

    assert api.delete(f"/departments/{empty.pk}").status_code == 204
    assert not Department.objects.filter(pk=empty.pk).exists()
    assert_error(api.delete(f"/departments/{empty.pk}"), 404, "not_found")


def test_plt2_delete_department_listed_in_a_role_scope_is_refused(api):
    listed = DepartmentFactory(parent=company_root())
    role = RoleFactory(name="两地客服", data_scope="departments", departments=[listed])
    body = assert_error(api.delete(f"/departments/{listed.pk}"), 409, "department_in_use")
    assert body["details"] == {"roles": ["两地客服"]}
    api.patch(f"/roles/{role.pk}", {"data_scope": "self"})
    assert api.delete(f"/departments/{listed.pk}").status_code == 204


def test_plt1_department_patch_edits_fields_and_rejects_nulls(api):
    department = DepartmentFactory(parent=company_root())
    response = api.patch(
        f"/departments/{department.pk}", {"name": " 新名字 ", "kind": "team", "sort_order": 3}
    )
    assert response.status_code == 200, response.content
    assert response.json() | {"name": "新名字", "kind": "team", "sort_order": 3} == response.json()
    for field in ("name", "kind", "code", "sort_order"):
        assert_error(api.patch(f"/departments/{department.pk}", {field: None}), 422, "validation_error")


def test_plt1_department_manager_must_be_a_visible_employee(api, org):
    department = org.departments["sh"]
    manager = org.employees["sh_gm"]
    response = api.patch(f"/departments/{department.pk}", {"manager_id": manager.pk})
    assert response.json()["manager_id"] == manager.pk
    assert_error(api.patch(f"/departments/{department.pk}", {"manager_id": 10**9}), 422, "unknown_manager")


def test_plt2_department_writes_need_function_permissions(org):
    reader = org.employees["sh_a_rep1"]
    reader.roles.set([RoleFactory()])  # read permissions only
    client = ApiClient(token_for(reader.user))
    root = org.departments["hq"]
    assert client.get("/departments").status_code == 200
    assert_error(
        client.post("/departments", {"name": "新部门", "parent_id": root.pk}), 403, "permission_denied"
    )
    assert_error(client.patch(f"/departments/{root.pk}", {"name": "x"}), 403, "permission_denied")
    assert_error(client.delete(f"/departments/{org.departments['sh_b'].pk}"), 403, "permission_denied")
    # The tree is structure, not scoped data: a self-scoped reader still sees every department.
    assert client.get("/departments", {"page_size": 500}).json()["count"] == len(org.departments)


def test_plt1_department_list_query_count_does_not_grow(api, org, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        small = api.get("/departments", {"page_size": 500}).json()
    for n in range(20):
        DepartmentFactory(name=f"新{n}", parent=org.departments["bj_a"], manager=org.employees["bj_gm"])
    with django_assert_max_num_queries(8):
        large = api.get("/departments", {"page_size": 500}).json()
    assert large["count"] == small["count"] + 20
