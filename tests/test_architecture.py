"""The import rules of docs/architecture.md ("Who may import whom"), enforced.

The table in the document is the contract: this test reads it, walks every module of every app under
kestrel/ (tests excepted: they may import any app for fixtures) and fails on an import of an app the
row does not allow, or on an app with no row.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KESTREL = ROOT / "kestrel"
DOC = ROOT / "docs" / "architecture.md"
# Project modules an app may name: the WSGI entry point (`kestrel serve`) and the package root.
PROJECT_MODULES_ALLOWED = {"wsgi", "__init__"}
# Every app's UI layer may use `web`'s UI toolkit (form mixins, navigation, base templates).
UI_MODULES = {"views", "forms", "urls", "templatetags"}


def import_rules() -> dict[str, set[str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- import-rules", 1)[1]
    rules: dict[str, set[str]] = {}
    for line in table.splitlines()[1:]:
        if not line.startswith("|"):
            if rules:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        app = cells[0].strip("`")
        if app in {"app", "---"} or set(app) <= {"-"}:
            continue
        rules[app] = set(re.findall(r"`(\w+)`", cells[1]))
    return rules


def imported_kestrel_modules(path: Path) -> set[str]:
    """Second-level names under ``kestrel`` that a module imports (``kestrel.org.x`` → ``org``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "kestrel":
                names = [f"kestrel.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("kestrel.")}
    return found


def test_every_app_has_a_row_in_the_import_rules():
    rules = import_rules()
    assert {"core", "org", "web"} <= rules.keys(), "the table was read"
    apps = sorted(p.parent.name for p in KESTREL.glob("*/apps.py"))
    missing = [app for app in apps if app not in rules]
    assert not missing, f"add these apps to the import-rules table in docs/architecture.md: {missing}"
    unknown = {dep for deps in rules.values() for dep in deps} - rules.keys()
    assert not unknown, f"the table names apps that have no row: {unknown}"


def test_apps_import_only_what_the_architecture_allows():
    rules = import_rules()
    apps = {p.parent.name for p in KESTREL.glob("*/apps.py")}
    violations = []
    for app in sorted(apps & rules.keys()):
        for module in sorted((KESTREL / app).rglob("*.py")):
            relative = module.relative_to(KESTREL / app)
            if "tests" in relative.parts or relative.name == "conftest.py":
                continue
            allowed = rules[app] | {app} | PROJECT_MODULES_ALLOWED
            if UI_MODULES & {part.removesuffix(".py") for part in relative.parts}:
                allowed |= {"web"}
            for target in sorted(imported_kestrel_modules(module) - allowed):
                kind = "an app" if target in apps or target in rules else "a project module"
                violations.append(f"kestrel/{app}/{relative} imports {kind} `{target}`")
    assert not violations, "imports against docs/architecture.md:\n" + "\n".join(violations)
