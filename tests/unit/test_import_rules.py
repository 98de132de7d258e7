"""Dependencies point inward: the cores know no framework, no edge and not each other; the bot
never imports the desk. Read from the source (every import statement, also inside functions,
and literal `importlib.import_module` calls), so a lazy import cannot slip through."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = frozenset({"fastapi", "starlette", "telegram", "arq", "redis", "uvicorn"})
EDGES = frozenset({"kamidesk", "bot", "desk"})
CORES = ("fulfilment", "nlu", "knowledge_base")


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, module) for every import in `source`, relative ones resolved within `package`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: it stays inside (or climbs out of) the package
                found.append(
                    (
                        node.lineno,
                        f"{package}.{node.module or ''}"
                        if node.level == 1
                        else f"..{node.module}",
                    )
                )
            else:
                found.append((node.lineno, node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and _call_name(node.func) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return sorted(found)


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def violations(package_dir: Path, forbidden: frozenset[str]) -> list[str]:
    """Imports of `forbidden` top-level packages (or relative climbs out) under `package_dir`."""
    package = package_dir.name
    bad = []
    for path in sorted(package_dir.rglob("*.py")):
        for line, module in imported_modules(path.read_text(encoding="utf-8"), package):
            top = module.split(".")[0]
            if top in forbidden or module.startswith(".."):
                bad.append(f"{path.relative_to(package_dir.parent)}:{line} imports {module}")
    return bad


@pytest.mark.parametrize("core", CORES)
def test_a_core_imports_no_framework_no_edge_and_no_other_core(core):
    others = frozenset(CORES) - {core}
    assert violations(ROOT / core, FRAMEWORKS | EDGES | others) == []


def test_the_bot_never_imports_the_desk():
    bot = ROOT / "bot"
    if not bot.exists():  # the bot is being written on its own branch; the rule waits for it
        assert not (ROOT / "bot" / "__init__.py").exists()
        return
    assert violations(bot, frozenset({"desk"})) == []


def test_the_checker_catches_every_kind_of_forbidden_import(tmp_path):
    core = tmp_path / "fulfilment"
    (core / "services").mkdir(parents=True)
    (core / "ok.py").write_text(
        "import json\nimport fulfilment.models\nfrom fulfilment import uow\n"
        "from .models import Order\nimport fulfilment_extras\n"
    )
    (core / "services" / "bad.py").write_text(
        "import fastapi\n"
        "from starlette.requests import Request\n"
        "def later():\n"
        "    from kamidesk.settings import Settings\n"
        "    import nlu.parser\n"
        "    importlib.import_module('redis.asyncio')\n"
        "    __import__('desk')\n"
        "from ..bot import replies\n"
    )
    found = violations(core, FRAMEWORKS | EDGES | {"nlu", "knowledge_base"})
    assert [v.split(" imports ")[1] for v in found] == [
        "fastapi",
        "starlette.requests",
        "kamidesk.settings",
        "nlu.parser",
        "redis.asyncio",
        "desk",
        "..bot",
    ]
    assert all(v.startswith("fulfilment/services/bad.py:") for v in found)
