"""The lean install (`pip install realax`, no extras) runs an environment and the Gymnasium adapter.

Run by `.ci/run` in a fresh virtual environment holding `pip install .` only, from outside the checkout so
the installed package is imported. Fails loudly if an extra's package sneaked into the core dependencies or
into the import path of `realax.make` / `gymnasium.make`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import sys
from pathlib import Path

import gymnasium
import jax

import realax

# extras' packages that must not come with the core (SciPy is a dependency of jax itself, so it is installed
# anyway; the check below asserts that making and stepping an env does not import it)
EXTRAS_ONLY = ["minari", "typer", "tqdm", "matplotlib", "pettingzoo", "pillow", "tensorboardX", "wandb", "h5py"]


def main() -> None:
    assert "site-packages" in Path(realax.__file__).parts, f"realax imported from a checkout: {realax.__file__}"
    present = []
    for dist in EXTRAS_ONLY:
        try:
            present.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    assert not present, f"the core install pulled in extras' packages: {present}"
    assert importlib.resources.files("realax").joinpath("py.typed").is_file(), "py.typed is not installed"
    assert importlib.metadata.version("realax") == realax.__version__

    env, params = realax.make("realax/Spectrum-v0")
    obs, state = env.reset(jax.random.key(0), params)
    action = env.action_space(params).sample(jax.random.key(1))
    obs, state, reward, terminated, truncated, info = env.step(jax.random.key(2), state, action, params)
    assert env.observation_space(params).contains(obs)

    genv = gymnasium.make("realax/Spectrum-v0")
    gobs, _ = genv.reset(seed=0)
    assert genv.observation_space.contains(gobs)
    gobs, r, term, trunc, _ = genv.step(genv.action_space.sample())
    assert isinstance(r, float) and isinstance(term, bool) and isinstance(trunc, bool)
    genv.close()
    for mod in ("matplotlib", "pettingzoo", "minari", "typer", "tqdm", "scipy"):
        assert mod not in sys.modules, f"{mod} was imported"

    try:
        importlib.import_module("realax.wrappers.pettingzoo")
    except ModuleNotFoundError as err:  # realax._extras.MissingExtra
        assert "pip install 'realax[marl]'" in str(err), f"unhelpful message: {err}"
        print(f"without [marl]: {err}")
    else:
        raise AssertionError("realax.wrappers.pettingzoo imported without PettingZoo installed")

    try:  # rendering either works without matplotlib or names the [render] extra
        img = env.render(state, params)
    except ModuleNotFoundError as err:
        assert "pip install 'realax[render]'" in str(err), f"unhelpful message: {err}"
        print(f"without [render]: {err}")
    else:
        assert img.dtype == "uint8" and img.ndim == 3 and img.shape[2] == 3, (img.dtype, img.shape)

    print(f"lean install OK: realax {realax.__version__}, jax {jax.__version__}, gymnasium {gymnasium.__version__}")


if __name__ == "__main__":
    main()
