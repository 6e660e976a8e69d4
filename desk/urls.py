"""Top-level URL routes."""

from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from api.routes import api
from desk.health import healthz
from desk.login_throttle import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from portfolio import views as portfolio_views
from portfolio.page_cache import public_page
from portfolio.sitemaps import SITEMAPS

# Failed logins lock the username and the address out for a while (desk/login_throttle.py).
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path(
        "login/",
        LoginView.as_view(
            template_name="dashboard/login.html",
            authentication_form=ThrottledAuthenticationForm,
        ),
        name="login",
    ),
    path("logout/", LogoutView.as_view(next_page="login"), name="logout"),
    path("api/", api.urls),
    path("dashboard/", include("dashboard.urls")),
    path("sitemap.xml", public_page(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", portfolio_views.robots_txt, name="robots_txt"),
    path("favicon.ico", portfolio_views.favicon, name="favicon"),
    path("", include("portfolio.urls")),
]

# The site's own 404 page, with the owner's name; 500.html is rendered by Django's default.
handler404 = "portfolio.views.page_not_found"
