#!/usr/bin/env python
"""Create a PROMISE superuser: `make admin` calls this.

Non-interactive from DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD (and
DJANGO_SUPERUSER_EMAIL, optional), the variables Django's `createsuperuser --noinput`
reads; without them, on a terminal, it asks. It migrates first, so it works before the
first `make run`. When the user already exists it says so, leaves it unchanged and
exits 0, so scripts can run it every time.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promise.settings")


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
    if not username or not os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
        if sys.stdin.isatty():
            call_command("createsuperuser")
            return 0
        print(
            "Set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD (and optionally "
            "DJANGO_SUPERUSER_EMAIL), e.g. `DJANGO_SUPERUSER_USERNAME=admin "
            "DJANGO_SUPERUSER_PASSWORD=… make admin`.",
            file=sys.stderr,
        )
        return 2

    user_model = get_user_model()
    if user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).exists():
        print(
            f"User {username!r} already exists; left unchanged. To set its password: "
            f".venv/bin/python manage.py changepassword {username}"
        )
        return 0
    # createsuperuser --noinput takes the password (and email) from the environment.
    call_command("createsuperuser", interactive=False, username=username, verbosity=0)
    print(f"Superuser {username!r} created; log in at /accounts/login/ (admin site: /admin/).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
