import os

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.services import ensure_superadmin

DEFAULT_PASSWORD = "rafiki"


class Command(BaseCommand):
    help = "Create the superadmin account (password from SUPERADMIN_PASSWORD) if it is missing."

    def handle(self, *args: object, **options: object) -> None:
        password = os.environ.get("SUPERADMIN_PASSWORD") or DEFAULT_PASSWORD
        user, created = ensure_superadmin(password=password)
        if created:
            self.stdout.write(f"Created superadmin {user.email}")
            if password == DEFAULT_PASSWORD:
                self.stdout.write(
                    self.style.WARNING(
                        f"WARNING: {settings.SUPERADMIN_EMAIL} has the default password "
                        f"'{DEFAULT_PASSWORD}'. Set SUPERADMIN_PASSWORD before the first start "
                        "on any machine others can reach, or change it after logging in."
                    )
                )
        else:
            self.stdout.write(f"Superadmin {user.email} exists")
