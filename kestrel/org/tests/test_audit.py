"""PLT-5: who changed which org record, when, old → new — for changes made through the API."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from kestrel.org.models import Department, Employee, Role
from kestrel.org.tests.factories import RoleFactory, company_root
from kestrel.org.tests.fixtures import ApiClient, token_for

pytestmark = pytest.mark.django_db


def _entries(model, pk) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(model)
    return list(LogEntry.objects.filter(content_type=content_type, object_pk=str(pk)).order_by("pk"))


def test_plt5_department_create_update_delete_are_audited_with_actor(api, superuser):
    root = company_root()
    created = api.post("/departments", {"name": "华东大区", "parent_id": root.pk, "kind": "region"}).json()
    api.patch(f"/departments/{created['id']}", {"name": "华东区", "sort_order": 2})
    api.delete(f"/departments/{created['id']}")

    entries = _entries(Department, created["id"])
    assert [e.action for e in entries] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,  # the service stores the materialised path right after the insert
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    ]
    assert {e.actor_id for e in entries} == {superuser.pk}
    assert entries[0].changes_dict["name"] == ["None", "华东大区"]
    assert entries[2].changes_dict["name"] == ["华东大区", "华东区"]
    assert entries[2].changes_dict["sort_order"] == ["0", "2"]


def test_plt5_department_move_is_audited_as_a_parent_change(api, superuser, org):
    sh = org.departments["sh"]
    api.patch(f"/departments/{sh.pk}", {"parent_id": org.departments["north"].pk})
    last = _entries(Department, sh.pk)[-1]
    assert last.actor_id == superuser.pk
    assert last.changes_dict["parent"] == [str(org.departments["east"].pk), str(org.departments["north"].pk)]


def test_plt5_role_changes_including_permissions_and_departments_are_audited(api, superuser, org):
    created = api.post(
        "/roles",
        {
            "name": "客服",
            "data_scope": "departments",
            "department_ids": [org.departments["sh"].pk],
            "permissions": ["org.view_employee"],
        },
    ).json()
    api.patch(
        f"/roles/{created['id']}",
        {
            "name": "华东客服",
            "department_ids": [org.departments["hz"].pk],
            "permissions": ["org.view_employee", "org.view_role"],
        },
    )
    entries = _entries(Role, created["id"])
    assert {e.actor_id for e in entries} == {superuser.pk}
    assert any(e.changes_dict.get("name") == ["客服", "华东客服"] for e in entries)
    m2m = [e.changes_dict for e in entries if e.changes_dict.get("permissions", {}).get("type") == "m2m"]
    assert any(c["permissions"]["operation"] == "add" for c in m2m)
    departments = [e.changes_dict["departments"] for e in entries if "departments" in e.changes_dict]
    assert all(d["type"] == "m2m" for d in departments)
    assert {d["operation"] for d in departments} >= {"add", "delete"}

    api.delete(f"/roles/{created['id']}")
    assert _entries(Role, created["id"])[-1].action == LogEntry.Action.DELETE


def test_plt5_employee_changes_and_role_assignments_are_audited(api, superuser, org):
    role = RoleFactory()
    sh_a, bj = org.departments["sh_a"].pk, org.departments["bj"].pk
    new = {"name": "王小明", "department_id": sh_a, "username": "wxm", "role_ids": [role.pk]}
    created = api.post("/employees", new).json()
    api.patch(f"/employees/{created['id']}", {"status": "departed", "department_id": bj})

    entries = _entries(Employee, created["id"])
    assert {e.actor_id for e in entries} == {superuser.pk}
    assert entries[0].action == LogEntry.Action.CREATE
    assert any(e.changes_dict.get("roles", {}).get("objects") for e in entries)
    updates = [e for e in entries if e.action == LogEntry.Action.UPDATE and "status" in e.changes_dict]
    assert updates[0].changes_dict["status"] == ["active", "departed"]
    assert updates[0].changes_dict["department"] == [str(sh_a), str(bj)]
    # Disabling the login is audited on the user, with the password masked.
    user = Employee.objects.get(pk=created["id"]).user
    user_entries = _entries(type(user), user.pk)
    assert any(e.changes_dict.get("is_active") == ["True", "False"] for e in user_entries)
    assert all("password" not in e.changes_dict or "*" in e.changes_dict["password"][1] for e in user_entries)


def test_plt5_scoped_changes_name_their_actor_and_invisible_targets_leave_no_trace(org):
    manager = org.employees["sh_gm"]
    manager.roles.set(
        [RoleFactory(data_scope="department_tree", permissions=["org.view_employee", "org.change_employee"])]
    )
    client = ApiClient(token_for(manager.user))
    inside, outside = org.employees["sh_b_rep1"], org.employees["bj_a_rep1"]
    last = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert client.patch(f"/employees/{inside.pk}", {"mobile": "13900000000"}).status_code == 200
    assert client.patch(f"/employees/{outside.pk}", {"mobile": "13900000000"}).status_code == 404
    (entry,) = LogEntry.objects.filter(pk__gt=last)
    assert entry.object_pk == str(inside.pk)
    assert entry.actor_id == manager.user_id
    assert entry.changes_dict["mobile"] == ["", "13900000000"]
