from django.contrib.auth import views as auth_views
from django.urls import path

from kestrel.web import views

app_name = "web"

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", views.profile, name="profile"),
    path("", views.home, name="home"),
    # Pages without their own icon link (the admin, the API docs) make browsers ask for /favicon.ico.
    path("favicon.ico", views.favicon),
]
