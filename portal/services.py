from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from .models import Membership, Tenant


@transaction.atomic
def tenant_create(*, name: str, slug: str | None = None) -> Tenant:
    return Tenant.objects.create(name=name, slug=slug or slugify(name))


@transaction.atomic
def membership_set(*, tenant: Tenant, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def demo_setup(*, username: str = "demo", password: str = "overlay-demo", tenant_name: str = "Demo") -> tuple:
    """Create (or reset) the demo tenant and its owner; idempotent."""
    tenant, _ = Tenant.objects.get_or_create(slug=slugify(tenant_name), defaults={"name": tenant_name})
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    membership_set(tenant=tenant, user=user, role=Membership.Role.OWNER)
    return tenant, user
