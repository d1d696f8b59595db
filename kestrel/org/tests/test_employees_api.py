"""PLT-1/PLT-2: employees through /api/v1/employees — logins created with them, roles through
``role_ids``, managers without cycles, the departed status, delete rules and function permissions."""

import pytest
from django.contrib.auth import get_user_model

from kestrel.core.scope import DataScope
from kestrel.org.models import Employee
from kestrel.org.tests.factories import PASSWORD, READ_ORG, EmployeeFactory, RoleFactory
from kestrel.org.tests.fixtures import ApiClient, assert_error, token_for

pytestmark = pytest.mark.django_db
User = get_user_model()


def _new(org, **fields) -> dict:
    return {"name": "新员工", "department_id": org.departments["sh_a"].pk, **fields}


def test_plt1_employee_create_with_login_that_can_get_a_token(api, org):
    role = RoleFactory(data_scope=DataScope.DEPARTMENT)
    response = api.post(
        "/employees",
        _new(
            org,
            name="王小明",
            username="wangxm",
            password="Lotus-river-88",
            position="sales_rep",
            role_ids=[role.pk],
            manager_id=org.employees["sh_a_lead"].pk,
            employee_no="E-100",
            mobile=" 13800000000 ",
        ),
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert "password" not in created  # write-only
    assert (
        created
        | {
            "name": "王小明",
            "username": "wangxm",
            "position": "销售代表",
            "position_code": "sales_rep",
            "role_ids": [role.pk],
            "manager_id": org.employees["sh_a_lead"].pk,
            "status": "active",
            "mobile": "13800000000",
            "department_name": "sh_a部",
        }
        == created
    )

    login = ApiClient().post("/auth/token", {"username": "wangxm", "password": "Lotus-river-88"})
    assert login.status_code == 200, login.content
    me = ApiClient(login.json()["token"]).get("/auth/me").json()
    assert me["employee_id"] == created["id"]
    assert me["data_scope"]["department_ids"] == [org.departments["sh_a"].pk]
    assert set(READ_ORG) <= set(me["permissions"])
    # With the role's permissions the new login can read its own department.
    seen = ApiClient(login.json()["token"]).get("/employees").json()
    assert {e["id"] for e in seen["items"]} == {
        created["id"],
        *org.ids("sh_a_lead", "sh_a_rep1", "sh_a_rep2"),
    }


def test_plt1_position_by_name_and_unknown_position(api, org):
    assert api.post("/employees", _new(org, position="客户经理")).json()["position_code"] == "account_manager"
    assert_error(api.post("/employees", _new(org, position="宇航员")), 422, "unknown_position")


def test_plt1_employee_without_username_has_no_login(api, org):
    created = api.post("/employees", _new(org)).json()
    assert created["username"] is None
    assert Employee.objects.get(pk=created["id"]).user is None
    assert_error(
        api.post("/employees", _new(org, password="Lotus-river-88")), 422, "password_without_username"
    )


def test_plt1_weak_password_is_refused_with_the_validator_messages(api, org):
    body = assert_error(
        api.post("/employees", _new(org, username="weak", password="123")), 422, "password_invalid"
    )
    messages = body["details"]["password"]
    assert len(messages) >= 3  # too short, too common, entirely numeric
    assert all(isinstance(m, str) and m for m in messages)
    assert not User.objects.filter(username="weak").exists()
    employee = org.employees["sh_a_rep1"]
    assert_error(api.patch(f"/employees/{employee.pk}", {"password": "password"}), 422, "password_invalid")


def test_plt1_username_is_unique_ignoring_case(api, org):
    assert_error(api.post("/employees", _new(org, username="SH_A_REP1")), 409, "username_taken")
    employee = org.employees["bj_gm"]
    assert_error(api.patch(f"/employees/{employee.pk}", {"username": "sh_a_rep1"}), 409, "username_taken")
    assert_error(api.post("/employees", _new(org, username="带 空格")), 422, "validation_error")
    assert Employee.objects.count() == len(org.employees)


def test_plt1_employee_number_is_unique(api, org):
    assert_error(api.post("/employees", _new(org, employee_no="SH_A_REP1")), 409, "employee_number_taken")


def test_plt1_unknown_references_are_validation_errors(api, org):
    body = assert_error(api.post("/employees", _new(org, role_ids=[10**9])), 422, "unknown_role")
    assert body["details"]["role_ids"]
    assert_error(api.post("/employees", _new(org, department_id=10**9)), 422, "unknown_department")
    assert_error(api.post("/employees", _new(org, manager_id=10**9)), 422, "unknown_manager")
    employee = org.employees["sh_a_rep1"]
    assert_error(api.patch(f"/employees/{employee.pk}", {"role_ids": [10**9]}), 422, "unknown_role")


@pytest.mark.parametrize("loop", ["self", "direct", "through_others"])
def test_plt1_manager_cycle_is_refused(api, org, loop):
    lead, rep1, rep2 = (org.employees[k] for k in ("sh_a_lead", "sh_a_rep1", "sh_a_rep2"))
    api.patch(f"/employees/{rep1.pk}", {"manager_id": lead.pk})
    api.patch(f"/employees/{rep2.pk}", {"manager_id": rep1.pk})
    employee, manager = {"self": (lead, lead), "direct": (lead, rep1), "through_others": (lead, rep2)}[loop]
    assert_error(api.patch(f"/employees/{employee.pk}", {"manager_id": manager.pk}), 422, "manager_cycle")
    employee.refresh_from_db()
    assert employee.manager_id is None


def test_plt1_departed_status_disables_the_login_and_active_restores_it(api, org):
    employee = org.employees["sh_a_rep1"]
    response = api.patch(f"/employees/{employee.pk}", {"status": "departed"})
    assert response.status_code == 200, response.content
    assert response.json()["departed_on"] is not None
    employee.user.refresh_from_db()
    assert not employee.user.is_active
    assert_error(ApiClient().post("/auth/token", {"username": "sh_a_rep1", "password": PASSWORD}), 401)

    response = api.patch(f"/employees/{employee.pk}", {"status": "active"})
    assert response.json()["departed_on"] is None
    assert ApiClient().post("/auth/token", {"username": "sh_a_rep1", "password": PASSWORD}).status_code == 200


def test_plt1_employee_created_departed_has_an_inactive_login(api, org):
    created = api.post("/employees", _new(org, username="gone", password="Lotus-river-88", status="departed"))
    assert created.json()["status"] == "departed"
    assert not User.objects.get(username="gone").is_active


def test_plt1_employee_patch_sets_a_login_later_and_rejects_nulls(api, org):
    created = api.post("/employees", _new(org)).json()
    response = api.patch(f"/employees/{created['id']}", {"username": "later", "password": "Lotus-river-88"})
    assert response.json()["username"] == "later"
    assert (
        ApiClient().post("/auth/token", {"username": "later", "password": "Lotus-river-88"}).status_code
        == 200
    )
    for field in ("name", "department_id", "status", "role_ids"):
        assert_error(api.patch(f"/employees/{created['id']}", {field: None}), 422, "validation_error")


def test_plt1_delete_employee_rules(api, org):
    # Entered by mistake and never used: deleted together with the login.
    fresh = api.post("/employees", _new(org, username="mistake", password="Lotus-river-88")).json()
    assert api.delete(f"/employees/{fresh['id']}").status_code == 204
    assert not User.objects.filter(username="mistake").exists()
    assert_error(api.get(f"/employees/{fresh['id']}"), 404, "not_found")

    # Signed in before → keep them for the audit trail.
    used = org.employees["sh_a_rep1"]
    ApiClient().post("/auth/token", {"username": "sh_a_rep1", "password": PASSWORD})
    assert_error(api.delete(f"/employees/{used.pk}"), 409, "employee_in_use")
    # Manages others, or a department.
    lead, rep2 = org.employees["sh_a_lead"], org.employees["sh_a_rep2"]
    api.patch(f"/employees/{rep2.pk}", {"manager_id": lead.pk})
    assert_error(api.delete(f"/employees/{lead.pk}"), 409, "employee_in_use")
    bj_gm = org.employees["bj_gm"]
    api.patch(f"/departments/{org.departments['bj'].pk}", {"manager_id": bj_gm.pk})
    assert_error(api.delete(f"/employees/{bj_gm.pk}"), 409, "employee_in_use")
    assert Employee.objects.filter(pk__in=[used.pk, lead.pk, bj_gm.pk]).count() == 3


def test_plt2_function_permissions_come_from_roles(org):
    employee = org.employees["sh_a_lead"]
    employee.roles.set([RoleFactory(data_scope=DataScope.DEPARTMENT)])  # read only
    client = ApiClient(token_for(employee.user))
    body = assert_error(client.post("/employees", _new(org)), 403, "permission_denied")
    assert body["details"] == {"required": ["org.add_employee"]}
    assert_error(client.patch(f"/employees/{employee.pk}", {"name": "x"}), 403, "permission_denied")
    assert_error(client.delete(f"/employees/{org.employees['sh_a_rep1'].pk}"), 403, "permission_denied")

    employee.roles.add(RoleFactory(permissions=["org.add_employee"]))
    client = ApiClient(token_for(employee.user))
    assert client.post("/employees", _new(org)).status_code == 201
    # Data scope still applies to writes: not into a department outside one's reach.
    assert_error(
        client.post("/employees", _new(org, department_id=org.departments["bj"].pk)),
        403,
        "out_of_scope_department",
    )


def test_plt2_employee_filters(api, org):
    def names(**params):
        return {
            org.key_of(e["id"]) for e in api.get("/employees", {"page_size": 500, **params}).json()["items"]
        }

    sh = org.departments["sh"].pk
    assert names(department_id=sh) == {"sh_gm"}
    assert names(department_id=sh, include_subdepartments="true") == {
        "sh_gm",
        "sh_a_lead",
        "sh_a_rep1",
        "sh_a_rep2",
        "sh_b_rep1",
    }
    assert names(department_id=10**9, include_subdepartments="true") == set()
    role = RoleFactory()
    org.employees["hz_gm"].roles.add(role)
    assert names(role_id=role.pk) == {"hz_gm"}
    api.patch(f"/employees/{org.employees['bj_gm'].pk}", {"status": "departed"})
    assert names(status="departed") == {"bj_gm"}
    assert_error(api.get("/employees", {"status": "retired"}), 422, "validation_error")


def test_plt2_employee_list_query_count_does_not_grow(org, django_assert_max_num_queries):
    viewer = org.viewer("gm", DataScope.DEPARTMENT_TREE, (DataScope.DEPARTMENTS, ["sh_a"]))
    client = ApiClient(token_for(viewer.user))
    role = RoleFactory()
    with django_assert_max_num_queries(12):
        small = client.get("/employees", {"page_size": 500}).json()
    for n in range(30):
        EmployeeFactory(
            department=org.departments[["sh_a", "bj_a", "hz"][n % 3]],
            manager=org.employees["gm"],
            position=None,
            roles=[role],
        )
    with django_assert_max_num_queries(12):
        large = client.get("/employees", {"page_size": 500}).json()
    assert large["count"] == small["count"] + 30
