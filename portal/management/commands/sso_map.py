from django.core.management.base import BaseCommand, CommandError

from plumbing.errors import ServiceError
from portal.actors import Actor
from portal.models import Membership, Tenant
from portal.sso.services import sso_mapping_remove, sso_mapping_set


class Command(BaseCommand):
    help = (
        "Map an identity provider group to a team and role (members of the group get the role at their next "
        "sign-in), or --remove the mapping."
    )

    def add_arguments(self, parser):
        parser.add_argument("--group", required=True, help="The group as the provider's groups claim names it.")
        parser.add_argument("--tenant", required=True, help="The team's slug.")
        parser.add_argument("--role", choices=Membership.Role.values, default=Membership.Role.MEMBER)
        parser.add_argument("--remove", action="store_true", help="Stop mapping the group to the team.")

    def handle(self, *args, group, tenant, role, remove, **options):
        team = Tenant.objects.filter(slug=tenant).first()
        if team is None:
            raise CommandError(f'There is no team with the slug "{tenant}".')
        try:
            if remove:
                sso_mapping_remove(actor=Actor.command(), group=group, tenant=team)
                self.stdout.write(f'The group "{group}" no longer gives a role in {team.name}.')
            else:
                mapping = sso_mapping_set(actor=Actor.command(), group=group, tenant=team, role=role)
                self.stdout.write(
                    f'Members of "{mapping.group}" are {mapping.get_role_display().lower()}s of {team.name} '
                    "from their next sign-in."
                )
        except ServiceError as error:
            raise CommandError(error.message) from error
