from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a superuser without prompts. Fails (exit code 1) if the username exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--skip-password-validation",
            action="store_true",
            help="Accept a password the validators would refuse (demo installations only).",
        )

    def handle(self, *args, username, password, email, skip_password_validation, **options):
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("用户名不能为空 (the username must not be empty).")
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"用户 “{username}” 已存在 (user '{username}' already exists).")
        user = User(username=username, email=email, is_staff=True, is_superuser=True)
        if not skip_password_validation:
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise CommandError(
                    "密码不符合要求 (password rejected): " + " ".join(error.messages)
                ) from error
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(f"已创建管理员 {username} (superuser created)."))
