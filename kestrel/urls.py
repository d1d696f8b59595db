from django.contrib import admin
from django.urls import include, path

from kestrel.api import api

admin.site.site_header = "Kestrel 客隼 · 配置"
admin.site.site_title = "Kestrel 客隼"

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kestrel.web.urls")),
]
