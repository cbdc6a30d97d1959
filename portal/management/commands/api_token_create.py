from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import ApiToken, Tenant
from portal.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token and print its key (only the key, so scripts can capture it): a user's with --user, "
        "or a team token (for CI) with --tenant and --role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="The username the token acts as.")
        parser.add_argument("--tenant", help="For a team token: the team's slug. The token belongs to the team.")
        parser.add_argument("--role", choices=ApiToken.Role.values, help="A team token's role: member or viewer.")
        parser.add_argument("--name", default="cli", help="What will use the token (default: cli).")
        parser.add_argument(
            "--expires",
            help='Days until it stops working, or a date (YYYY-MM-DD); default 90; "never" only with '
            "API_TOKEN_MAX_DAYS=0.",
        )
        parser.add_argument("--read-only", action="store_true", help="The token may only read.")

    def handle(self, *args, user, tenant, role, name, expires, read_only, **options):
        if (user is None) == (tenant is None):
            raise CommandError("Give --user NAME for a user's token, or --tenant SLUG --role ROLE for a team token.")
        account = team = None
        if user is not None:
            account = get_user_model().objects.filter(username=user).first()
            if account is None:
                raise CommandError(f'There is no user named "{user}". Run `manage.py demo_setup` for the demo user.')
        else:
            team = Tenant.objects.filter(slug=tenant).first()
            if team is None:
                raise CommandError(f'There is no team "{tenant}". Give its slug, as the admin lists them.')
        try:
            _, key = api_token_create(
                actor=Actor.command(),
                user=account,
                team=team,
                role=role or "",
                name=name,
                expires=expires,
                read_only=read_only,
            )
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(key)
