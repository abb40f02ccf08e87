"""Who may import whom (DESIGN.md): domain apps import the platform
(``config.api``, ``config.admin``, ...), not each other, except the one named
arrow ``profiles`` -> ``badges``; the platform imports no domain app, except the
wiring in ``config/urls.py``."""

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {("profiles", "badges")}
WIRING = {Path("config/urls.py"), Path("config/asgi.py")}


def project_packages() -> set[str]:
    return {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).parent == ROOT
    }


def imports(path: Path) -> set[str]:
    """The top-level packages ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_apps_import_only_the_platform_and_the_named_arrow():
    packages = project_packages()
    assert {"profiles", "badges", "config"} <= packages
    wrong = []
    for package in sorted(packages):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in WIRING:
                continue
            for imported in imports(path) & packages - {package, "config"}:
                if (package, imported) not in ALLOWED:
                    wrong.append(f"{relative} imports {imported}")
    assert wrong == []
