"""How the code is laid out: packages by feature on a core that knows none of them, rules apart from pages.

(a) the grants.* modules import one another without a cycle (module-level imports: an import inside a function
    runs later, when it is called), and grants.core never imports a feature;
(b) a feature's rules can be imported without its pages;
(c) each routes module makes its own Blueprint;
(d) templates never compare role strings: what a person may do comes from the rules (e.g. Lifecycle.allowed).
"""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[1]
GRANTS = PROJECT / "grants"
TEMPLATES = PROJECT / "templates"
PYTHON = PROJECT / ".venv" / "bin" / "python"
FEATURES = ("bids", "assessment", "agreements", "payments", "repayments", "monitoring", "finance", "public", "admin",
            "auth", "main", "dashboards", "notifications", "variations")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(GRANTS.rglob("*.py"))}


def _top_level(statements: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module is: in its body and its top-level if/try blocks, not in functions or classes,
    nor under `if TYPE_CHECKING:` (never run)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in statements:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                found += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            found += _top_level(node.body) + _top_level(node.orelse) + _top_level(node.finalbody)
            for handler in node.handlers:
                found += _top_level(handler.body)
    return found


def imports_of(module: str, source: str) -> set[str]:
    """The grants modules a module imports when it is loaded (a package when the name is not a module)."""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in _top_level(ast.parse(source).body):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


@functools.cache
def import_graph() -> dict[str, set[str]]:
    return {module: imports_of(module, path.read_text(encoding="utf-8")) for module, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in the graph, as the path that closes it, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt):] + [nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_graph_reader_finds_imports_and_cycles() -> None:
    """The checks below can fail: the reader sees each kind of import, and a cycle is found."""
    graph = import_graph()
    assert "grants.agreements.lifecycle" in graph["grants.payments.lifecycle"]  # from x import NAME
    assert "grants.core.models" in graph["grants.core.audit"]
    assert "grants.assessment.rules" not in graph["grants.bids.lifecycle"]  # imported inside a guard only
    assert imports_of("grants.bids.rules", "from . import lifecycle\nfrom .queries import x\n") == \
        {"grants.bids.lifecycle", "grants.bids.queries"}
    assert imports_of("grants.bids.rules", "import typing\nif TYPE_CHECKING:\n    import grants.bids.routes\n") == set()
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_between_grants_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle or [])


def test_core_imports_no_feature() -> None:
    graph = import_graph()
    assert all((GRANTS / name).is_dir() for name in FEATURES)

    def is_feature(imported: str) -> bool:  # the grants package itself loads every feature's pages
        return imported == "grants" or imported.split(".")[1] in FEATURES

    wrong = {module: sorted(filter(is_feature, imported))
             for module, imported in graph.items() if module.startswith("grants.core")}
    assert {m: i for m, i in wrong.items() if i} == {}


RULES_FEATURES = sorted(path.parent.name for path in GRANTS.glob("*/rules.py"))
# One interpreter loads the libraries grants uses (no grants module), then forks a child per module named that
# imports just that module and says which grants routes modules are then loaded: the answer
# `python -c "import sys, grants.X.rules; ..."` would give, without starting an interpreter for each.
PROBE = """
import importlib, json, os, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
assert not [m for m in sys.modules if m == "grants" or m.startswith("grants.")], "a library loaded grants"
children = {}
for module in sys.argv[1].split(","):
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        try:
            importlib.import_module(module)
            answer = sorted(m for m in sys.modules if m.startswith("grants.") and m.endswith(".routes"))
        except BaseException as exc:
            answer = f"import failed: {exc!r}"
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    children[module] = read
answers = {}
for module, read in children.items():
    with os.fdopen(read) as pipe:
        answers[module] = json.loads(pipe.read())
    os.wait()
print(json.dumps(answers))
"""
CONTROL = "grants.main.routes"  # a routes module: the probe must see it loaded


def libraries() -> list[str]:
    """The modules outside the standard library and the project that grants imports by absolute name."""
    names: set[str] = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return sorted(n for n in names if n.split(".")[0] not in sys.stdlib_module_names
                  and not (PROJECT / n.split(".")[0]).exists() and not (PROJECT / f"{n.split('.')[0]}.py").exists())


@pytest.fixture(scope="module")
def routes_loaded() -> dict[str, Any]:
    """For each feature's rules module (and the control), imported on its own: the grants routes modules loaded."""
    python = str(PYTHON if PYTHON.exists() else sys.executable)
    modules = [f"grants.{feature}.rules" for feature in RULES_FEATURES] + [CONTROL]
    done = subprocess.run([python, "-c", PROBE, ",".join(modules), *libraries()], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers


def test_the_probe_sees_routes_loaded(routes_loaded: dict[str, Any]) -> None:
    """The probe can fail: a routes module imported shows up in its answer."""
    assert routes_loaded[CONTROL] == [CONTROL]


@pytest.mark.parametrize("feature", RULES_FEATURES)
def test_rules_import_without_routes(routes_loaded: dict[str, Any], feature: str) -> None:
    loaded = routes_loaded[f"grants.{feature}.rules"]
    assert isinstance(loaded, list), loaded
    assert f"grants.{feature}.routes" not in loaded
    assert loaded == [], f"importing grants.{feature}.rules loads pages: {loaded}"


def test_rules_modules_are_found() -> None:
    assert {"bids", "assessment", "agreements", "payments", "monitoring"} <= set(RULES_FEATURES)


ROUTE_MODULES = sorted(GRANTS.glob("*/routes.py"))


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.parent.name)
def test_routes_module_makes_its_own_blueprint(path: Path) -> None:
    assert re.search(r"^bp = Blueprint\(", path.read_text(encoding="utf-8"), re.MULTILINE), \
        f"grants/{path.parent.name}/routes.py does not make its Blueprint (bp = Blueprint(...))"


def test_only_the_app_factory_imports_routes() -> None:
    """Pages are the outside of a feature: nothing but create_app (grants/__init__.py) loads them."""
    graph = import_graph()
    assert len(ROUTE_MODULES) >= 5
    users = {module: sorted(i for i in imported if i.endswith(".routes"))
             for module, imported in graph.items() if module != "grants"}
    assert {m: i for m, i in users.items() if i} == {}


JINJA = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
ROLE_COMPARISON = re.compile(r"\.role\s*(==|!=)|(==|!=)\s*[\w.]*\.role\b|\brole\s+(not\s+)?in\b")


def role_comparisons(template: str) -> list[str]:
    """The Jinja tags and expressions of a template that compare a role."""
    return [tag for tag in JINJA.findall(template) if ROLE_COMPARISON.search(tag)]


def test_role_comparison_reader() -> None:
    assert role_comparisons('{% if current_user.role == "officer" %}x{% endif %}') == \
        ['{% if current_user.role == "officer" %}']
    assert len(role_comparisons("{{ 'a' if user.role != 'applicant' }}{% if role in roles %}")) == 2
    assert len(role_comparisons("{% if 'officer' == current_user.role %}{% if current_user.role in x %}")) == 2
    assert role_comparisons('<a role="button">Your role in the organisation</a>{{ user.role_name }}') == []


def test_templates_never_compare_roles() -> None:
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert templates
    found = {str(path.relative_to(PROJECT)): tags for path in templates
             if (tags := role_comparisons(path.read_text(encoding="utf-8")))}
    assert found == {}, "templates comparing role strings: let the rules say what a person may see or do"
