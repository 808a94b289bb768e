"""The import graph of ``realax/`` as DESIGN §1 draws it: no cycles, no import of the command layer from the
library, and each layer importing only downwards. Every import counts, including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "realax"

#: module prefix -> prefixes it must never import
FORBIDDEN = {
    "realax.core": ("realax.envs", "realax.wrappers", "realax.agents", "realax.offline", "realax.baselines",
                    "realax.experiment", "realax.run_folder", "realax.cli"),
    "realax.spaces": ("realax.envs", "realax.wrappers", "realax.agents", "realax.offline", "realax.baselines",
                      "realax.experiment", "realax.cli"),
    "realax.envs": ("realax.wrappers", "realax.agents", "realax.offline", "realax.baselines", "realax.experiment",
                    "realax.run_folder", "realax.cli"),
    "realax.wrappers": ("realax.envs", "realax.agents", "realax.offline", "realax.baselines", "realax.experiment",
                        "realax.run_folder", "realax.cli"),
    "realax.agents": ("realax.envs", "realax.wrappers", "realax.offline", "realax.baselines", "realax.experiment",
                      "realax.run_folder", "realax.cli"),
    "realax.baselines": ("realax.agents", "realax.offline", "realax.experiment", "realax.run_folder", "realax.cli"),
    "realax.offline": ("realax.experiment", "realax.run_folder", "realax.cli"),
    "realax.run_folder": ("realax.experiment", "realax.cli"),
    "realax.experiment": ("realax.cli",),
    "realax.sharding": ("realax.envs", "realax.wrappers", "realax.agents", "realax.offline", "realax.baselines",
                        "realax.experiment", "realax.run_folder", "realax.cli"),
}
#: the library below the command: nothing in it imports the command layer
LIBRARY = ("realax.core", "realax.spaces", "realax.registry", "realax.options", "realax.errors", "realax.files",
           "realax.envs", "realax.wrappers", "realax.agents", "realax.offline", "realax.baselines",
           "realax.experiment", "realax.run_folder", "realax.bench", "realax.sharding")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for p in ROOT.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The realax modules ``path`` imports anywhere in it (``from pkg import sub`` counts as ``pkg.sub``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("realax")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("realax") and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in modules else node.module)
    return {m for m in out if m in modules}


def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(p, modules) - {m} for m, p in modules.items()}


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".") or (prefix == "realax.cli" and module.startswith("realax.cli"))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by a depth-first search (one per back edge)."""
    found, state, stack = [], {}, []

    def visit(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == "open":
                found.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(g):
        if m not in state:
            visit(m)
    return found


def violations(g: dict[str, set[str]]) -> list[str]:
    out = []
    for m, deps in g.items():
        for layer, banned in FORBIDDEN.items():
            if _under(m, layer):
                out += [f"{m} imports {d}" for d in sorted(deps) if any(_under(d, b) for b in banned)]
        if any(_under(m, lib) for lib in LIBRARY):
            out += [f"{m} (library) imports {d} (command)" for d in sorted(deps) if _under(d, "realax.cli")]
    return sorted(set(out))


def test_the_import_graph_has_no_cycle():
    g = graph()
    assert len(g) > 50 and "realax.agents.algorithms" in g["realax.experiment"]  # it really reads the package
    assert cycles(g) == []


def test_every_import_goes_down_the_layers():
    assert violations(graph()) == []


def test_the_checks_catch_a_cycle_and_a_forbidden_import():
    bad = {"realax.agents.dqn": {"realax.offline.loader"}, "realax.offline.loader": {"realax.agents.dqn"},
           "realax.offline.policies": {"realax.experiment"}, "realax.envs.x": {"realax.cli_common"}}
    assert cycles(bad) == [["realax.agents.dqn", "realax.offline.loader", "realax.agents.dqn"]]
    assert violations(bad) == ["realax.agents.dqn imports realax.offline.loader",
                               "realax.envs.x (library) imports realax.cli_common (command)",
                               "realax.envs.x imports realax.cli_common",
                               "realax.offline.policies imports realax.experiment"]


@pytest.mark.parametrize("module", ["realax.offline.generate", "realax.agents.dqn"])
def test_known_past_offenders_are_clean(module):
    g = graph()
    assert not any(_under(d, "realax.experiment") or _under(d, "realax.offline.loader") for d in g[module]
                   if module == "realax.agents.dqn") and "realax.experiment" not in g[module]
