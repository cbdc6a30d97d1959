import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from portal.actors import Actor
from portal.services import demo_setup
from portal.sso.demo import demo_mappings_setup, demo_people


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo tenant, its owner, a portal admin and the demo group mappings of the local "
        "identity provider, and print their logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("DEMO_USERNAME", "demo"))
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "overlay-demo"))
        parser.add_argument("--admin-password", default=os.environ.get("DEMO_ADMIN_PASSWORD", "overlay-admin"))

    def handle(self, *args, username, password, admin_password, **options):
        tenant, user = demo_setup(actor=Actor.command(), username=username, password=password)
        admin, _ = get_user_model().objects.get_or_create(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.set_password(admin_password)
        admin.save()
        self.stdout.write(self.style.SUCCESS(f'Demo tenant "{tenant.name}" is ready.'))
        self.stdout.write(f"  portal login: {username} / {password}   (owner of {tenant.name})")
        self.stdout.write(f"  admin login:  admin / {admin_password}   (/admin/)")
        mappings = demo_mappings_setup(actor=Actor.command())
        groups = {person["sub"]: ", ".join(person["groups"]) for person in demo_people()["people"]}
        self.stdout.write(
            f"  single sign-on (the local provider of `make run`): {len(mappings)} group mappings; "
            + "; ".join(f"{sub} in {names}" for sub, names in groups.items())
        )
