"""Make sure the local installation has an admin login whose password is in a file (for `make run`).

The password is generated once, kept in ``var/admin-password`` (gitignored, mode 600) and printed by
`make run` every time, so a developer never has to guess it. The login is created with
``kestrel createadmin``, the same command an operator uses. If the user already exists with a
different password (the file was deleted, or the database came from elsewhere), the password is
reset to the file's, and the script says so: the login `make run` prints must work.

Usage: python scripts/ensure_admin.py --username admin --password-file var/admin-password
"""

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path


def password_from_file(path: Path) -> str:
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)  # 16 characters; passes Django's password validators
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password-file", type=Path, default=Path("var/admin-password"))
    args = parser.parse_args()
    password = password_from_file(args.password_file)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kestrel.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        command = [sys.executable, "-m", "kestrel", "createadmin"]
        command += ["--username", args.username, "--password", password]
        created = subprocess.run(command, check=False)  # noqa: S603 — our own CLI, no shell
        return created.returncode
    if not (user.is_active and user.is_superuser and user.check_password(password)):
        user.is_active = user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save(update_fields=["is_active", "is_staff", "is_superuser", "password"])
        print(
            f"管理员 {args.username} 的密码已重置为 {args.password_file} 中的密码 (admin "
            f"'{args.username}' existed with another password; reset to the one in {args.password_file})."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
