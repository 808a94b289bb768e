"""``realax._xla.configure``: the flag against XLA:CPU's scheduler deadlock (see ``realax/_xla.py``) is added to
``XLA_FLAGS`` before JAX starts, beside the user's own flags, and never over a value the user chose.

The deadlock itself came from batched LAPACK QR kernels (the orthogonal initialisation vmapped over seeds);
realax's learners no longer batch the QR, which ``tests/agents/test_networks.py`` checks on the traced program.
An earlier version of this file ran the once-hanging vmapped PPO chunk in a subprocess (15 CPU s); with the QR
unbatched that run completes with or without the flag, so it no longer tested the flag."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from realax import _xla


@pytest.fixture
def before_jax(monkeypatch):
    """``configure`` acts only while JAX is not imported: hide the test session's own import of it."""
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    return monkeypatch


def test_the_flag_is_added_beside_the_users_flags(before_jax):
    before_jax.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    _xla.configure()
    assert os.environ["XLA_FLAGS"].split() == ["--xla_force_host_platform_device_count=2", *_xla.FLAGS]
    _xla.configure()  # twice: once
    assert os.environ["XLA_FLAGS"].split() == ["--xla_force_host_platform_device_count=2", *_xla.FLAGS]


def test_a_value_the_user_chose_is_kept(before_jax):
    name = _xla.FLAGS[0].split("=")[0]
    before_jax.setenv("XLA_FLAGS", f"{name}=true")
    _xla.configure()
    assert os.environ["XLA_FLAGS"] == f"{name}=true"
    before_jax.delenv("XLA_FLAGS")
    _xla.configure()
    assert os.environ["XLA_FLAGS"] == " ".join(_xla.FLAGS)


def test_nothing_changes_once_jax_is_imported(monkeypatch):
    import jax  # noqa: F401

    monkeypatch.setenv("XLA_FLAGS", "")
    _xla.configure()
    assert os.environ["XLA_FLAGS"] == ""


def test_the_command_caches_programs_in_the_users_cache_folder(before_jax, tmp_path):
    before_jax.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)  # the test session sets its own
    before_jax.delenv("JAX_COMPILATION_CACHE_MAX_SIZE", raising=False)
    before_jax.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    before_jax.setenv("XDG_CACHE_HOME", str(tmp_path))
    _xla.use_compilation_cache()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "realax" / "jax")
    assert os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] == str(_xla.CACHE_MAX_BYTES)
    assert os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"  # small programs too
    before_jax.setenv("JAX_COMPILATION_CACHE_DIR", "/elsewhere")  # the user's folder is kept
    before_jax.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")  # and the user's threshold
    _xla.use_compilation_cache()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == "/elsewhere"
    assert os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0.5"


def test_a_second_command_reads_the_first_ones_programs_and_bench_compiles_afresh(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env.pop("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", None)  # the command's own threshold: every program
    env.update(XDG_CACHE_HOME=str(tmp_path))
    folder = tmp_path / "realax" / "jax"

    def realax(*args: str) -> set[str]:
        subprocess.run([sys.executable, "-m", "realax.cli", *args], env=env, check=True, capture_output=True)
        return {p.name for p in folder.glob("*-cache")} if folder.exists() else set()

    first = realax("eval", "realax/Spectrum-v0", "--policy", "random", "--episodes", "1", "--json")
    assert first  # programs written
    assert realax("eval", "realax/Spectrum-v0", "--policy", "random", "--episodes", "1", "--json") == first  # all read back
    assert realax("bench", "realax/Spectrum-v0", "--num-envs", "8", "--num-steps", "2") == first  # nothing written
