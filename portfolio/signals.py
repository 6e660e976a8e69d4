"""Any change to the site's content drops the cached pages, so the next visitor sees it."""

from django.db.models.signals import post_delete, post_save

from portfolio.models import Experience, Profile, Project, Skill
from portfolio.page_cache import clear_public_pages


def connect() -> None:
    for model in (Profile, Skill, Experience, Project):
        uid = f"portfolio-clear-pages-{model.__name__}"
        post_save.connect(clear_public_pages, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(clear_public_pages, sender=model, dispatch_uid=f"{uid}-delete")
