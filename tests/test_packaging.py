"""Packaging: one version everywhere, py.typed shipped, and a missing extra named by the error."""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

import pytest

import realax
from realax import _extras

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_agrees_with_pyproject():
    assert realax.__version__ == PYPROJECT["project"]["version"]


def test_changelog_has_this_version():
    assert f"## [{realax.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_py_typed_ships():
    assert (ROOT / "realax" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["realax"]


def test_core_dependencies_are_lean():
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in PYPROJECT["project"]["dependencies"]}
    assert names == {"jax", "flax", "optax", "gymnasium", "numpy"}


def test_every_extra_module_has_an_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for module, extra in _extras.EXTRA_OF.items():
        assert extra in extras, (module, extra)


def test_require_names_the_extra():
    with pytest.raises(_extras.MissingExtra, match=r"pip install 'realax\[marl\]'") as err:
        _extras.require("realax_no_such_module", extra="marl", what="the adapter")
    assert isinstance(err.value, ModuleNotFoundError) and err.value.name == "realax_no_such_module"
    assert "the adapter needs 'realax_no_such_module'" in str(err.value)
    assert _extras.require("numpy", extra="marl") is sys.modules["numpy"]
    with pytest.raises(KeyError, match="no extra is known"):
        _extras.require("numpy")


def test_missing_dependency_of_an_installed_extra_is_named(monkeypatch, tmp_path):
    pkg = tmp_path / "realax_fake_extra"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import realax_fake_missing_dep\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(_extras.MissingExtra, match=r"cannot be imported \(No module named 'realax_fake_missing_dep'\)"):
        _extras.require("realax_fake_extra", extra="offline")


def test_pettingzoo_adapter_without_pettingzoo_names_marl(monkeypatch):
    monkeypatch.setitem(sys.modules, "pettingzoo", None)  # import pettingzoo -> ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "realax.wrappers.pettingzoo", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'realax\[marl\]'"):
        importlib.import_module("realax.wrappers.pettingzoo")
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'realax\[marl\]'"):
        realax.parallel_env("realax/SMAX-v0")


def test_render_without_matplotlib_names_render(monkeypatch):
    import jax

    env, params = realax.make("realax/Spectrum-v0")
    _, state = env.reset(jax.random.key(0), params)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    try:
        img = env.render(state, params)
    except ModuleNotFoundError as err:
        assert "pip install 'realax[render]'" in str(err)
    else:  # rendering that needs no matplotlib is fine too
        assert img.dtype == "uint8" and img.ndim == 3
