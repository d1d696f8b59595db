"""The ``kestrel`` command (PLT-8): a thin front over Django management commands.

Each subcommand is a management command of one of the apps, so ``python -m django <name>`` works
too; this module only gives them one name, one ``--help`` and production-ready defaults.
"""

import os
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    # kestrel name: (management command, one-line help)
    "serve": ("serve", "Serve the web UI and API with a production WSGI server (waitress)."),
    "worker": ("worker", "Run the background-job worker (huey consumer, periodic tasks included)."),
    "migrate": ("migrate", "Create or upgrade the database schema."),
    "createadmin": ("createadmin", "Create a superuser non-interactively (--username U --password P)."),
    "seed-demo": ("seed_demo", "Load a demo company (regions, branches, employees, roles); idempotent."),
    "calendar": (
        "calendar",
        "Working-day calendar: 'calendar import FILE' (date,kind,name CSV), 'calendar show YEAR'.",
    ),
    "import": ("import", "Import customers or contacts: 'import customers FILE [--dry-run] [--mode …]'."),
    "export": ("export", "Export customers or contacts: 'export customers FILE [--as USERNAME]'."),
    "check": ("check", "Run Django's system checks (add --deploy for production settings)."),
    "shell": ("shell", "Open a Python shell with Kestrel loaded."),
    "collectstatic": ("collectstatic", "Collect static files into KESTREL_STATIC_ROOT."),
}


def _usage() -> str:
    lines = [
        "usage: kestrel <command> [options]",
        "",
        "Kestrel 客隼 — customer management driven by written policy.",
        "",
        "commands:",
    ]
    width = max(len(name) for name in COMMANDS)
    lines += [f"  {name.ljust(width)}  {help_text}" for name, (_c, help_text) in COMMANDS.items()]
    lines += [
        "",
        "Run 'kestrel <command> --help' for a command's options.",
        "Environment: KESTREL_DATABASE_URL, KESTREL_SECRET_KEY, KESTREL_DEBUG, KESTREL_PRODUCTION, …",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    if argv[0] in {"-V", "--version"}:
        from kestrel import __version__

        print(f"kestrel {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"kestrel: unknown command '{name}'\n", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kestrel.settings")
    import django
    from django.core.management import CommandError, get_commands, load_command_class

    django.setup()
    command_name = COMMANDS[name][0]
    command = load_command_class(get_commands()[command_name], command_name)
    try:
        command.run_from_argv([f"kestrel {name}", command_name, *rest])
    except CommandError as error:  # run_from_argv already printed it when not --traceback
        print(f"kestrel {name}: {error}", file=sys.stderr)
        return error.returncode
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0
