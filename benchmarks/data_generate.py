"""Dataset collection rate: ``realax data generate`` beside Minari's ``DataCollector`` loop, in one run.

    python benchmarks/data_generate.py                     # 1,000,000 realax transitions, 20,000 Minari ones
    python benchmarks/data_generate.py --episodes 2000 --minari-steps 5000   # quicker

Both collect ``realax/Spectrum-v0`` (default scenario, 100-step episodes) with uniformly random actions and
write a Minari dataset (HDF5). realax: the ``realax data generate`` command in a fresh process, timed from
start to exit (JAX start-up, compilation, the reference returns, checksums and the atomic rename included),
then ``realax data verify`` and ``minari.load_dataset`` on the result; then the same command again, which
reads its compiled programs back from the command's compilation cache (a fresh folder for this run). Minari: the documented recipe
(Farama-Foundation/Minari ``docs``: ``env = DataCollector(gym.make(...))``, a Python loop of ``env.step``,
then ``env.create_dataset(...)``) on realax's Gymnasium adapter, timed over the loop and ``create_dataset``
(environment construction and the first, compiling, step apart). The floor: importing the command in a fresh
interpreter, plus writing the dataset's episodes (read back into memory) in Minari's HDF5 layout alone, both
paid by every run, so 1 M transitions over their sum bounds the command's rate. Issue 5's goal: >= 1 M transitions in
under 2 minutes on the 2-core CPU machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def run_realax(episodes: int, root: Path, cache: Path, name: str) -> tuple[float, int, str]:
    out = root / f"{name}-v0"
    cmd = [sys.executable, "-m", "realax.cli", "data", "generate", "realax/Spectrum-v0", "--policy", "random",
           "--episodes", str(episodes), "--out", str(out), "--quiet"]
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache)}  # the command's compilation cache, ours alone
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - t0
    check = subprocess.run([sys.executable, "-m", "realax.cli", "data", "verify", str(out)], capture_output=True,
                           text=True, check=True)
    import minari

    os.environ["MINARI_DATASETS_PATH"] = str(root)
    ds = minari.load_dataset(out.name)
    return wall, ds.total_steps, res.stdout.strip() + "\n" + check.stdout.strip()


def floor_seconds(dataset: Path, root: Path) -> tuple[float, float]:
    """``(import, hdf5)`` seconds: a fresh interpreter importing the ``realax`` command and what it writes with
    (jax, h5py, minari), and ``hdf5_episodes.append`` writing the dataset's episodes, already in memory, into a
    new HDF5 file (Minari's layout: a group per episode with its datasets and attributes). Every run of the
    command pays both, so ``transitions / (import + hdf5)`` bounds its rate whatever the collection costs."""
    import h5py

    from realax.offline import hdf5_episodes, minari_io

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import realax.cli, jax, h5py, minari"], check=True)  # what it runs on
    imports = time.perf_counter() - t0
    records = list(minari_io._episode_records(minari_io.read(dataset)))
    target = root / "floor.hdf5"
    with h5py.File(target, "w"):
        pass
    t0 = time.perf_counter()
    hdf5_episodes.append(target, records)
    return imports, time.perf_counter() - t0


def run_minari(steps: int, root: Path) -> tuple[float, int, int]:
    import gymnasium
    import minari

    import realax  # noqa: F401  (registers the Gymnasium ids)

    os.environ["MINARI_DATASETS_PATH"] = str(root)
    env = minari.DataCollector(gymnasium.make("realax/Spectrum-v0"))
    env.reset(seed=0)
    env.step(env.action_space.sample())  # compile the jitted step outside the timing
    env.reset(seed=1)
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            env.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = env.create_dataset("minari-collector-v0", algorithm_name="random", author="realax benchmark")
    return time.perf_counter() - t0, steps, ds.total_steps  # the dataset also holds the 1-step warm-up episode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=10_000, help="realax episodes (100 transitions each)")
    ap.add_argument("--minari-steps", type=int, default=20_000, help="transitions for the DataCollector loop")
    args = ap.parse_args()
    from realax import _xla

    _xla.configure()
    import jax

    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # the first command compiles into an empty cache folder; the second, the same command, reads it back
        wall, n, log = run_realax(args.episodes, root / "realax", root / "xla-cache", "cold")
        warm, _, _ = run_realax(args.episodes, root / "realax", root / "xla-cache", "warm")
        print(f"$ realax data generate realax/Spectrum-v0 --policy random --episodes {args.episodes} --out ...\n{log}")
        imports, hdf5 = floor_seconds(root / "realax" / "warm-v0", root)
        m_wall, m_n, m_stored = run_minari(args.minari_steps, root / "minari")
    a, b = n / wall, m_n / m_wall
    print(f"realax data generate: {n:>9,d} transitions in {wall:6.1f} s  -> {a:>10,.0f} transitions/s "
          f"(whole command, compilation cache empty; minari.load_dataset opens it)")
    print(f"  the same command again: {warm:6.1f} s  -> {n / warm:>10,.0f} transitions/s (programs read back "
          f"from the compilation cache)")
    print(f"  its floor: importing the command {imports:.1f} s + writing the episodes in Minari's HDF5 layout alone "
          f"{hdf5:.1f} s ({hdf5 / max(args.episodes, 1) * 1e3:.2f} ms an episode) -> at most "
          f"{n / (imports + hdf5):,.0f} transitions/s for any collection")
    print(f"Minari DataCollector: {m_n:>9,d} transitions in {m_wall:6.1f} s  -> {b:>10,.0f} transitions/s "
          f"(Python loop on gymnasium.make('realax/Spectrum-v0') + create_dataset; {m_stored:,d} stored)")
    goal = f"; 1 M transitions {'under' if wall < 120 else 'NOT under'} 2 minutes" if n >= 1_000_000 else ""
    print(f"ratio realax / Minari: {a / b:.1f}x{goal}")


if __name__ == "__main__":
    main()
