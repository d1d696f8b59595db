from django.urls import path

from kestrel.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="index"),
    path("new/", views.customer_create, name="create"),
    path("regions/", views.region_options, name="regions"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:customer_id>/events/new/", views.major_event_create, name="event_create"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("access/", views.access_inbox, name="access_inbox"),
    path("access/new/", views.access_request_create, name="access_request"),
    path("access/<int:request_id>/decide/", views.access_request_decide, name="access_decide"),
    path("access/<int:request_id>/withdraw/", views.access_request_withdraw, name="access_withdraw"),
    path("import/", views.import_upload, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/<int:job_id>/", views.import_job, name="import_job"),
    path("import/<int:job_id>/commit/", views.import_commit, name="import_commit"),
]
