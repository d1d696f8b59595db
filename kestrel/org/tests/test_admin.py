"""PLT-5: logins are deactivated, never deleted, so the append-only audit trail keeps its actors."""

import pytest

from kestrel.org.tests.factories import EmployeeFactory, SuperuserFactory

pytestmark = pytest.mark.django_db


def test_plt5_admin_offers_no_login_deletion(client):
    admin = SuperuserFactory()
    login = EmployeeFactory().user
    client.force_login(admin)
    assert client.get(f"/admin/auth/user/{login.pk}/change/").status_code == 200
    assert client.get(f"/admin/auth/user/{login.pk}/delete/").status_code == 403
    response = client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [login.pk]})
    assert response.status_code in {200, 302}
    assert type(login).objects.filter(pk=login.pk).exists()
