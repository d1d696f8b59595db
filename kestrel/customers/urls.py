from django.urls import include, path, register_converter

from kestrel.customers import views


class IdConverter:
    """A database id: at most 18 digits, so an oversized number is a 404, never an overflow (500)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="index"),
    path("new/", views.customer_create, name="create"),
    path("regions/", views.region_options, name="regions"),
    path("<id:customer_id>/", views.customer_detail, name="detail"),
    path("<id:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<id:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("<id:customer_id>/events/new/", views.major_event_create, name="event_create"),
    path("contacts/<id:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<id:contact_id>/move/", views.contact_move, name="contact_move"),
    path("contacts/<id:contact_id>/active/", views.contact_set_active, name="contact_active"),
    path("contacts/<id:contact_id>/history/", views.contact_history, name="contact_history"),
    path("access/", views.access_inbox, name="access_inbox"),
    path("access/new/", views.access_request_create, name="access_request"),
    path("access/<id:request_id>/decide/", views.access_request_decide, name="access_decide"),
    path("access/<id:request_id>/withdraw/", views.access_request_withdraw, name="access_withdraw"),
    path("import/", views.import_upload, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/<id:job_id>/", views.import_job, name="import_job"),
    path("import/<id:job_id>/commit/", views.import_commit, name="import_commit"),
    # Handover, duplicates and merge, self-service forms (ARC-8, ARC-9, ARC-12).
    path("", include("kestrel.customers.workflow_urls")),
]
