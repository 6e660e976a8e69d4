"""WSGI entry point: plain HTTP pages are served through a WSGI server for throughput."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")

application = get_wsgi_application()
