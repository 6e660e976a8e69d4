"""The private desk's pages under /dashboard/."""

from django.urls import path

from dashboard import research_views, views

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
    path("research", research_views.research, name="research"),
    path("research/launch", research_views.launch, name="research_launch"),
    path("research/<int:run_id>/cancel", research_views.cancel, name="research_cancel"),
    path("research/<int:run_id>/report", research_views.report, name="research_report"),
]
