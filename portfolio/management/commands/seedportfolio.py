from typing import Any

from django.core.management.base import BaseCommand

from portfolio.seed import seed_default_content


class Command(BaseCommand):
    help = "Create a placeholder profile, skills and projects where none exist (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_default_content()
        if created:
            self.stdout.write(self.style.SUCCESS("Created " + ", ".join(created)))
        else:
            self.stdout.write("Portfolio content already present; nothing created.")
