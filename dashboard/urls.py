"""The private desk's pages under /dashboard/."""

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.trading, name="trading"),
    path("health", views.health, name="health"),
    path("control", views.control, name="control"),
    path("control/limits", views.update_limits, name="limits"),
    path("control/order", views.order_ticket, name="order"),
    path("control/<str:action>", views.control_action, name="action"),
    path("equity.json", views.equity_json, name="equity"),
    path("log.json", views.log_json, name="log"),
]
