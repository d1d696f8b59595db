from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from kestrel.api import api
from kestrel.customers.self_service_views import self_service_form

admin.site.site_header = _("Kestrel 客隼 · Configuration")
admin.site.site_title = _("Kestrel 客隼")
admin.site.index_title = _("Configuration")

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("kestrel.org.urls")),
    path("customers/", include("kestrel.customers.urls")),
    path("notifications/", include("kestrel.notify.urls")),
    path("s/<str:token>/", self_service_form, name="customer-self-service"),
    path("", include("kestrel.web.urls")),
]
