"""Top-level URL routes."""

from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from desk.health import healthz
from portfolio import views as portfolio_views
from portfolio.page_cache import public_page
from portfolio.sitemaps import SITEMAPS

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("sitemap.xml", public_page(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", portfolio_views.robots_txt, name="robots_txt"),
    path("favicon.ico", portfolio_views.favicon, name="favicon"),
    path("", include("portfolio.urls")),
]

# The site's own 404 page, with the owner's name; 500.html is rendered by Django's default.
handler404 = "portfolio.views.page_not_found"
