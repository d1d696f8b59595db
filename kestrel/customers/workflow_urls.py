"""URLs of the workflow pages (ARC-8, ARC-9, ARC-12), included into the ``customers`` namespace by
``kestrel/customers/urls.py`` (which registers the ``id`` converter)."""

from django.urls import path

from kestrel.customers import workflow_views as views

urlpatterns = [
    path("handovers/", views.handover_list, name="handover_list"),
    path("handovers/new/", views.handover_new, name="handover_new"),
    path("handovers/<id:handover_id>/", views.handover_detail, name="handover_detail"),
    path("handovers/<id:handover_id>/approve/", views.handover_approve, name="handover_approve"),
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/scan/", views.duplicate_scan, name="duplicate_scan"),
    path("duplicates/<id:candidate_id>/", views.duplicate_compare, name="duplicate_compare"),
    path("duplicates/<id:candidate_id>/dismiss/", views.duplicate_dismiss, name="duplicate_dismiss"),
    path("duplicates/<id:candidate_id>/merge/", views.duplicate_merge, name="duplicate_merge"),
    path("self-service/", views.self_service_list, name="self_service_list"),
    path("self-service/new/", views.self_service_invite, name="self_service_new"),
    path("self-service/<id:invitation_id>/", views.self_service_review, name="self_service_review"),
    path("<id:customer_id>/self-service/", views.self_service_invite, name="self_service_invite"),
]
