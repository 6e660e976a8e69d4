"""The desk's control and data API (django-ninja), mounted at /api/."""
