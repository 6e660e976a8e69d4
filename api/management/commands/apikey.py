"""`manage.py apikey create NAME --user USERNAME | list | revoke PREFIX`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.keys import issue_key, revoke_keys
from api.models import ApiKey


class Command(BaseCommand):
    help = "Create, list and revoke API keys (sent by clients in the X-API-Key header)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key; it is printed once only")
        create.add_argument("name")
        create.add_argument("--user", required=True, help="the username the key acts as")
        actions.add_parser("list", help="list keys (their prefixes only)")
        revoke = actions.add_parser("revoke", help="revoke the key with this prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, **options) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: options["user"]})
        except user_model.DoesNotExist:
            raise CommandError(f"no user {options['user']!r}") from None
        issued = issue_key(user, options["name"])
        self.stdout.write(issued.secret)
        self.stderr.write(
            f"API key {options['name']!r} for {user.get_username()} (prefix "
            f"{issued.api_key.prefix}); the key above is not stored and will not be shown again."
        )

    def _list(self, options: dict) -> None:
        rows = ApiKey.objects.select_related("user").order_by("created")
        for api_key in rows:
            status = f"revoked {api_key.revoked_at:%Y-%m-%d %H:%M}" if api_key.revoked else "active"
            used = f"{api_key.last_used:%Y-%m-%d %H:%M}" if api_key.last_used else "never"
            self.stdout.write(
                f"{api_key.prefix}  {api_key.name}  user={api_key.user.get_username()}  "
                f"created={api_key.created:%Y-%m-%d %H:%M}  last_used={used}  {status}"
            )

    def _revoke(self, options: dict) -> None:
        revoked = revoke_keys(options["prefix"])
        if not revoked:
            raise CommandError(f"no active key with prefix {options['prefix']!r}")
        for api_key in revoked:
            self.stdout.write(f"revoked {api_key.prefix} ({api_key.name})")
