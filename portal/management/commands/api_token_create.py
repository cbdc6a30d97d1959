from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (only the key, so scripts can capture it)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The username the token acts as.")
        parser.add_argument("--name", default="cli", help="What will use the token (default: cli).")

    def handle(self, *args, user, name, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f'There is no user named "{user}". Run `manage.py demo_setup` for the demo user.')
        try:
            _, key = api_token_create(actor=Actor.command(), user=account, name=name)
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(key)
