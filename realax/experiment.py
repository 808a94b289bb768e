"""Runs: the one runner of online and offline training. It builds a learner from the one algorithm table
(``realax.agents.algorithms``), trains it over vmapped seeds in jitted chunks with a progress bar, logs and
checkpoints into a run folder (``realax.run_folder``; after every chunk unless writing the checkpoint takes
more than a tenth of the time: ``_Saver``), resumes from such a checkpoint,
then evaluates the greedy policy beside the env's baselines (online) or scores it against the dataset's
references (offline). The ``realax`` command drives it; nothing in the library imports it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import jax
import numpy as np

from realax import baselines, sharding
from realax.agents import algorithms, checkpoint
from realax.agents.algorithms import make_config
from realax.agents.evaluate import evaluate_episodes
from realax.errors import RealaxError
from realax.run_folder import RunFolder

__all__ = ["Interrupted", "Result", "run", "resume", "train_offline", "make_config", "load_policy", "format_table"]


class Interrupted(Exception):
    """Ctrl-C during training: how far the run got, and where its checkpoint is (None without a folder)."""

    def __init__(self, chunks_done: int, chunks: int, step: int, folder: Path | None):
        self.chunks_done, self.chunks, self.step, self.folder = chunks_done, chunks, step, folder
        saved = (f"checkpoint saved; continue with `realax train --resume {folder}`" if folder is not None and chunks_done
                 else "nothing was saved")
        super().__init__(f"interrupted after {chunks_done} of {chunks} chunks ({step:,} steps per seed); {saved}")


class Diverged(RealaxError):
    """Training produced a non-finite loss: which one, for which seed, at which step, and what was kept."""


def _divergence(m: dict[str, np.ndarray], trail: dict[str, np.ndarray], steps: np.ndarray, period: int) -> str | None:
    """Whether a loss of this chunk's metrics ``m`` (``[seeds, updates]`` each) has broken, as a sentence
    (``None`` if none has).

    A loss is NaN by design on updates that do not learn: before ``learning_starts`` (DQN, QMIX, SAC, SlateQ)
    and between the learning updates of ``train_every = period``. So a single NaN says nothing; a loss that
    was finite and has then been NaN or infinite for two learning updates in a row (``2 * period`` updates:
    one non-finite spike is let pass) has broken: once the parameters are NaN every later loss is. ``trail``
    holds, per loss and seed, the count of non-finite values since its last finite one (-1: never finite
    yet), carried from chunk to chunk and updated in place."""
    for name in sorted(k for k in m if k.endswith("loss")):
        v = np.asarray(m[name], np.float64).reshape(len(m[name]), -1)
        finite = np.isfinite(v)
        last = np.where(finite.any(1), v.shape[1] - 1 - np.argmax(finite[:, ::-1], 1), -1)  # last finite index
        before = trail.get(name, np.full(len(v), -1))
        now = np.where(last >= 0, v.shape[1] - 1 - last, np.where(before >= 0, before + v.shape[1], -1))
        trail[name] = now
        broken = np.flatnonzero(now >= 2 * period)
        if broken.size:
            seed = int(broken[0])
            return (f"{name} of seed {seed} is {v[seed, -1]} and has had no finite value for {int(now[seed])} updates, "
                    f"to env step {int(steps[-1]):,}")
    return None


@dataclasses.dataclass
class Result:
    algo: str
    config: Any
    env: Any
    params: Any
    trainer: Any
    carry: Any  # final carry, leading seed axis
    curve_steps: np.ndarray  # [updates]: env steps (online) or gradient steps (offline) per seed
    curve_returns: np.ndarray  # [seeds, updates]; NaN where no episode had finished (offline: none)
    agent_returns: np.ndarray  # [seeds, episodes]
    baseline_returns: dict[str, np.ndarray]
    wall_seconds: float
    agent_wins: np.ndarray | None = None  # [seeds, episodes], for envs reporting info["won"]
    baseline_wins: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    seed: int = 0  # the base seed of the run (seed i is jax.random.split(key(seed), num_seeds)[i])
    episodes: int = 0  # evaluation episodes per seed and per baseline
    metrics: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # every metric, [seeds, updates]


def env_steps_run(config: Any) -> int:
    """Environment steps per seed a run of ``config`` makes: whole chunks of whole updates."""
    return config.num_chunks * config.updates_per_chunk * config.env_steps_per_update


def budget_note(config: Any) -> str | None:
    """What an online run will make when that differs from ``total_timesteps`` (updates and chunks are whole);
    a config with a ``budget_note()`` of its own (a learner in stages) says it itself."""
    if hasattr(config, "budget_note"):
        return config.budget_note()
    if not hasattr(config, "total_timesteps"):
        return rounding_note(config)
    run_steps = env_steps_run(config)
    if run_steps == config.total_timesteps:
        return None
    return (f"note: {config.total_timesteps:,} env steps per seed asked; the run makes {run_steps:,} "
            f"({config.num_chunks} chunks × {config.updates_per_chunk} updates × {config.env_steps_per_update:,} "
            f"env steps per update)")


def evaluate_policy(env: Any, params: Any, policy: Any, key: jax.Array, episodes: int) -> dict[str, jax.Array]:
    """``{"return": [episodes]}`` (summed over agents for multi-agent envs), plus ``"won"`` where the env
    reports wins."""
    out = evaluate_episodes(env, params, policy, key, episodes)
    return {**out, "return": out["return"].reshape(episodes, -1).sum(-1)}


@contextlib.contextmanager
def _ctrl_c_after_chunk() -> Iterator[dict]:
    """While training, the first Ctrl-C asks the loop to stop after the chunk in flight (its checkpoint is
    then consistent); a second one stops at once."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["stop"]:
            raise KeyboardInterrupt
        flag["stop"] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class _Placement(NamedTuple):
    carry: Any  # a NamedSharding per leaf of the carry
    metrics: Any


def _placement(mesh: Any, config: Any, offline: bool, template: Any) -> _Placement | None:
    """Where the carry lives on a mesh of several devices (None on one device: the plain, unsharded path)."""
    if mesh.size == 1:
        return None
    size, axis, what = (config.num_seeds, 0, "num_seeds") if offline else (config.num_envs, 1, "num_envs")
    sharding.check_divides(mesh, size, what)
    return _Placement(sharding.batch_shardings(template, mesh, size, axis), sharding.replicated(mesh))


def _data_for(algo: str, config: Any, data: Any) -> Any:
    """The transitions an algorithm trains on: ``data`` as given, or the dataset a hybrid config names."""
    if data is None and getattr(config, "dataset", ""):
        from realax.offline.loader import load

        data, _ = load(config.dataset)
    return data


class _Saver:
    """Checkpoints of one run, written after a chunk when the training since the last one took at least
    ``1 / SHARE - 1`` times as long as writing that one did, so they cost at most ``SHARE`` of the wall time
    (and after the last chunk, and on Ctrl-C). Small carries are written after every chunk; QMIX's on SMAX
    5m_vs_6m with 5,000 stored sequences per seed (3.3 GB for 3 seeds) took 85 s of every 104 s chunk when
    written after each."""

    SHARE = 0.1

    def __init__(self, folder: RunFolder | None, done: int):
        self.folder, self.done, self.cost, self.since = folder, done, 0.0, time.perf_counter()

    def due(self) -> bool:
        return time.perf_counter() - self.since >= self.cost * (1 / self.SHARE - 1)

    def save(self, carry: Any, metrics: dict, done: int, wall: float) -> None:
        t = time.perf_counter()
        self.folder.save_checkpoint(carry, metrics, done, wall)
        self.since = time.perf_counter()
        self.cost, self.done = self.since - t, done


def run(algo: str, env: Any, params: Any, overrides: dict, seed: int = 0, episodes: int = 100,
        progress: bool = True, data: Any = None, folder: RunFolder | None = None,
        resume_from: RunFolder | None = None, evaluate: bool = True, devices: int | None = None) -> Result:
    """Train ``algo`` on ``env`` (offline learners on ``data``, a ``Transitions``) over ``num_seeds`` vmapped
    seeds, chunk by chunk; log each chunk into ``folder`` when given, and checkpoint it there (``_Saver``: after
    every chunk for small carries, less often for large ones, and on Ctrl-C); continue the checkpoint of
    ``resume_from`` when given (the same result as a run never interrupted). Ctrl-C stops after the chunk in
    flight and raises ``Interrupted``; a loss that breaks (``_divergence``) stops the run after its chunk and
    raises ``Diverged``. Then evaluate every seed's greedy policy for ``episodes`` episodes, and
    (online) the env's fast baselines for as many; ``evaluate=False`` skips both (for callers that evaluate the
    trained carry their own way: ``agent_returns`` is then empty).

    ``devices`` (``None``: every device JAX sees): with more than one, the training carry is sharded over a 1-D
    mesh (``realax.sharding``) -- online learners split their ``num_envs`` environments, offline ones their
    ``num_seeds`` seeds -- and the compiler spreads each chunk over the devices. With several processes
    (``sharding.join``) every process calls ``run`` with the same arguments; give ``folder`` to one of them
    (it alone writes), and only process 0 evaluates (the others' ``agent_returns`` are empty)."""
    config = make_config(algo, overrides)
    data = _data_for(algo, config, data)
    trainer = algorithms.make_trainer(algo, config, env, params, data)
    offline = algorithms.get(algo).offline
    keys = jax.random.split(jax.random.key(seed), config.num_seeds)
    compiled: dict[int, Any] = {}  # one jitted program per stage (one for most learners)
    folder = resume_from or folder
    processes = jax.process_count()
    template = jax.eval_shape(jax.vmap(trainer.init), keys)
    place = _placement(sharding.mesh(devices), config, offline, template)
    if resume_from is not None:
        carry, metrics, done, wall0 = resume_from.load_checkpoint(template)
        carry = jax.device_put(carry, place.carry) if place else carry
    else:
        init = jax.vmap(trainer.init)
        init = jax.jit(init, out_shardings=place.carry) if place else jax.jit(init)
        carry, metrics, done, wall0 = init(keys), {}, 0, 0.0
    steps_per_update = 1 if offline else config.env_steps_per_update
    per_chunk = config.updates_per_chunk * steps_per_update
    bar = _bar(progress, trainer.num_chunks, done, f"{algo} {type(env.unwrapped).__name__}")
    t0 = time.perf_counter() - wall0
    saver = _Saver(folder, done)
    trail: dict[str, np.ndarray] = {}
    period = int(getattr(config, "train_every", 1))
    if metrics:  # resumed: the losses' history so far
        _divergence(metrics, trail, np.zeros(1), period)
    with _ctrl_c_after_chunk() as ctrl_c:
        try:
            while done < trainer.num_chunks and not ctrl_c["stop"]:
                tc = time.perf_counter()
                stage = trainer.stage_of(done)
                if stage not in compiled:
                    step = jax.vmap(trainer.stage_step(stage))
                    compiled[stage] = jax.jit(step, in_shardings=(place.carry,), out_shardings=(place.carry, place.metrics)
                                              ) if place else jax.jit(step)
                new_carry, m = compiled[stage](carry)
                m = {k: np.asarray(v) for k, v in jax.device_get(m).items()}
                carry, done = new_carry, done + 1
                metrics = {k: np.concatenate([metrics[k], v], 1) if k in metrics else v for k, v in m.items()}
                x = m["env_steps"][0] if "env_steps" in m else (done - 1) * per_chunk + np.arange(1, per_chunk + 1)
                if folder is not None:
                    folder.chunk(done, trainer.num_chunks, m, x, time.perf_counter() - t0, time.perf_counter() - tc, per_chunk)
                broke = _divergence(m, trail, x, period)
                if broke is not None:  # before any checkpoint of this chunk: the folder keeps the last good one
                    bar.close()
                    raise _diverged(broke, done, trainer.num_chunks, folder, saver.done if processes == 1 else done - 1)
                if processes > 1:  # every process gathers the carry (a collective); the one with the folder writes it
                    host = sharding.to_host(carry)
                    if folder is not None:
                        folder.save_checkpoint(host, metrics, done, time.perf_counter() - t0)
                elif folder is not None and (done == trainer.num_chunks or saver.due()):
                    saver.save(carry, metrics, done, time.perf_counter() - t0)
                _report(bar, m, int(x[-1]))
        except KeyboardInterrupt:
            ctrl_c["stop"] = True
    bar.close()
    if done < trainer.num_chunks:
        if folder is not None:
            if processes == 1 and saver.done < done:  # the last finished chunk, for --resume
                saver.save(carry, metrics, done, time.perf_counter() - t0)
            folder.interrupted(done)
        raise Interrupted(done, trainer.num_chunks, done * per_chunk, folder.path if folder is not None else None)
    wall = time.perf_counter() - t0
    if processes > 1:  # the trained carry on every process; process 0 evaluates it, the others return it
        carry, evaluate = sharding.to_host(carry), evaluate and jax.process_index() == 0
    result = _evaluate(algo, config, env, params, trainer, carry, metrics, wall, seed, episodes if evaluate else 0,
                       offline or not evaluate)
    return result


def _diverged(what: str, done: int, chunks: int, folder: RunFolder | None, saved: int) -> Diverged:
    """The error for a run that diverged in chunk ``done``; the folder (if any) records it and keeps the
    checkpoint of chunk ``saved``, written before the divergence."""
    msg = (f"training diverged: {what} (chunk {done} of {chunks}); lower lr, or clip gradients (max_grad_norm) "
           "or rewards (reward_scale) where the learner has them")
    if folder is not None:
        folder.diverged(saved, msg)
        msg += (f"; {folder.path} keeps the checkpoint of chunk {saved}" if saved else f"; nothing was saved in {folder.path}")
    return Diverged(msg)


class _NoBar:
    def update(self, n: int) -> None: ...

    def set_postfix(self, refresh: bool = True, **post: Any) -> None: ...

    def close(self) -> None: ...


def _bar(progress: bool, total: int, done: int, desc: str) -> Any:
    if not progress:
        return _NoBar()
    from tqdm import tqdm  # the [cli] extra

    return tqdm(total=total, initial=done, desc=desc, unit="chunk")


def _report(bar: Any, m: dict, step: int) -> None:
    post: dict[str, str | int] = {"steps": step}
    if "return" in m and np.isfinite(m["return"][:, -1]).any():
        post["ret"] = f"{np.nanmean(m['return'][:, -1]):.1f}"
    elif "loss" in m:
        post["loss"] = f"{np.nanmean(m['loss'][:, -1]):.3g}"
    if "win_rate" in m:
        post["win"] = f"{np.nanmean(m['win_rate'][:, -1]):.2f}"
    bar.set_postfix(**post, refresh=False)
    bar.update(1)


def _evaluate(algo, config, env, params, trainer, carry, metrics, wall, seed, episodes, skip_baselines) -> Result:
    n = config.num_seeds
    k_eval = jax.random.split(jax.random.key(seed + 10_000), n)
    agent = {"return": np.zeros((n, 0), np.float32)} if episodes == 0 else \
        jax.jit(jax.vmap(lambda c, k: evaluate_policy(env, params, trainer.policy(c), k, episodes)))(carry, k_eval)
    base = {} if skip_baselines else {
        name: jax.jit(lambda k, b=name: evaluate_policy(env, params, baselines.get(b, env, params), k, episodes * n))(k_eval[0])
        for name in baselines.fast_names(env)}
    updates = next(iter(metrics.values())).shape[1]
    steps = metrics["env_steps"][0] if "env_steps" in metrics else np.arange(1, updates + 1)
    returns = metrics.get("return", np.full((n, updates), np.nan))
    return Result(algo, config, env, params, trainer, carry, steps, returns, np.asarray(agent["return"]),
                  {b: np.asarray(r["return"]) for b, r in base.items()}, wall,
                  np.asarray(agent["won"]) if "won" in agent else None,
                  {b: np.asarray(r["won"]) for b, r in base.items() if "won" in r}, seed, episodes, metrics)


def finish(result: Result, folder: RunFolder, title: str) -> None:
    """Write the finished run into ``folder``: the best seed's agent, ``metrics.json``, ``curve.png``."""
    r = result
    best = int(np.argmax(r.agent_returns.mean(-1)))
    summary = {"agent_mean": float(r.agent_returns.mean()), "agent_seed_means": r.agent_returns.mean(-1).tolist(),
               "baselines": {k: float(v.mean()) for k, v in r.baseline_returns.items()},
               "agent_win_rate": None if r.agent_wins is None else float(r.agent_wins.mean()),
               "agent_seed_win_rates": None if r.agent_wins is None else r.agent_wins.mean(-1).tolist(),
               "baseline_win_rates": {k: float(v.mean()) for k, v in r.baseline_wins.items()},
               "step": int(r.curve_steps[-1]), "wall_seconds": r.wall_seconds}
    if "env_steps" in r.metrics:
        summary["env_steps_per_seed"] = int(r.curve_steps[-1])
    plot = (lambda path: _plot(r, path, title)) if np.isfinite(r.curve_returns).any() else None
    folder.finish(_seed(r.carry, best), summary, best, plot)


@jax.jit
def _seed(carry: Any, i: int | jax.Array) -> Any:
    """Seed ``i``'s slice of a vmapped carry, in one program (op by op, every leaf's shape compiles its own)."""
    return jax.tree.map(lambda x: x[i], carry)


def resume(path: Path | str, progress: bool = True, wandb: bool = False, devices: int | None = None
           ) -> tuple[Result, RunFolder]:
    """Continue the interrupted run in ``path`` from its checkpoint, with the options in its ``meta.json``
    (on ``devices``, which need not be the devices it started on)."""
    import realax

    folder = RunFolder.resume(path, wandb=wandb)
    meta = folder.meta
    env, params = realax.make(meta["env_id"], **meta["env_kwargs"])
    data = None
    if algorithms.get(meta["algo"]).offline:
        from realax.offline import loader
        from realax.offline.generate import env_of

        data, dmeta = loader.load(meta["dataset"], check=False)
        env, params = env_of(dmeta)
    result = run(meta["algo"], env, params, meta["config"], seed=meta["seed"], episodes=meta["episodes"],
                 progress=progress, data=data, resume_from=folder, devices=devices)
    return result, folder


def load_policy(folder: Path | str, env: Any, params: Any) -> Any:
    """The greedy policy of a saved agent (``checkpoint.load_policy``), its dataset loaded for offline ones."""
    meta = checkpoint.read_meta(folder)
    data = None
    if algorithms.get(meta["algo"]).offline:
        from realax.offline import loader

        data, _ = loader.load(meta["dataset"], check=False)
    return checkpoint.load_policy(folder, env, params, data)


# -- offline: exact gradient-step budgets and normalised scores ------------------------------------------------
_MOST_PER_CHUNK = 1000


def chunk_for(updates: int) -> int:
    """Updates per chunk so that whole chunks make exactly ``updates``: the largest divisor of ``updates`` up
    to 1000 (0 when every such divisor is below 100, i.e. more than ten times the chunks needed: the caller
    rounds up to whole chunks of 1000 and says so)."""
    if updates <= _MOST_PER_CHUNK:
        return updates
    best = max(d for d in range(1, _MOST_PER_CHUNK + 1) if updates % d == 0)
    return best if best >= 100 else 0


def plan_updates(updates: int | None, overrides: dict) -> dict:
    """``overrides`` with ``--steps N`` as ``num_updates`` and an ``updates_per_chunk`` that divides it, so the
    run does exactly N gradient steps (``rounding_note`` says what runs when that cannot be)."""
    overrides = dict(overrides)
    if updates is None:
        return overrides
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 1:
        raise RealaxError(f"steps (gradient steps per seed) must be a whole number >= 1, got {updates!r}")
    if "num_updates" in overrides:
        raise RealaxError("give the number of gradient steps once: --steps or --set num_updates=..., not both")
    overrides["num_updates"] = updates
    if "updates_per_chunk" not in overrides:
        overrides["updates_per_chunk"] = chunk_for(updates) or _MOST_PER_CHUNK
    return overrides


def rounding_note(config: Any) -> str | None:
    """What an offline run does when it is not ``num_updates`` (``total_updates`` rounds up to whole chunks)."""
    if config.total_updates == config.num_updates:
        return None
    return (f"{config.num_updates} gradient steps are not a whole number of chunks of {config.updates_per_chunk}: "
            f"running {config.total_updates} ({config.num_chunks} chunks)")


def score(result: Result, meta: dict, path: Any) -> dict:
    """An offline run's result as NeoRL-2 reports it: per-seed mean returns and normalised scores
    ``100 · (R - random) / (expert - random)`` (None, with ``warning``, when the references are not ordered)."""
    from realax.offline import loader

    per_seed = result.agent_returns.astype(np.float64).mean(-1)
    scores = loader.normalised_score(per_seed, meta)
    behaviour = meta.get("behaviour_return")
    behaviour_score = loader.normalised_score(behaviour, meta) if behaviour is not None else None
    out = {"algo": result.algo, "dataset": str(path) if path is not None else None, "env_id": meta["env_id"],
           "seeds": int(result.config.num_seeds), "num_updates": result.config.total_updates,
           "episodes": int(result.episodes), "return_per_seed": per_seed.tolist(),
           "score_per_seed": None if scores is None else scores.tolist(),
           "score_mean": None if scores is None else float(scores.mean()),
           "score_std": None if scores is None else float(scores.std()),
           "return_mean": float(per_seed.mean()), "return_std": float(per_seed.std()),
           "behaviour_return": behaviour,
           "behaviour_score": None if behaviour_score is None else float(behaviour_score),
           "ref_min_score": meta["ref_min_score"], "ref_max_score": meta["ref_max_score"],
           "expert_policy": meta.get("expert_policy"),
           "final_metrics": {k: float(np.nanmean(v[:, -1])) for k, v in result.metrics.items()},
           "train_seconds": result.wall_seconds}
    warning = loader.reference_warning(meta)
    if warning is not None:
        out["warning"] = warning
    note = rounding_note(result.config)
    if note is not None:
        out["note"] = note
    return out


def check_offline(algo: str) -> None:
    """``RealaxError`` unless ``algo`` is an offline learner."""
    if algo not in algorithms.names(offline=True):
        known = "an online learner (use `realax train`)" if algo in algorithms.ALGOS else "unknown offline algorithm"
        raise RealaxError(f"{algo!r}: {known}; offline algorithms: {algorithms.names(offline=True)}")


def train_offline(algo: str, path: Any, seeds: int = 3, updates: int | None = None, overrides: dict | None = None,
                  episodes: int = 100, seed: int = 0, data: Any = None, progress: bool = False, check: bool = True,
                  folder: RunFolder | None = None) -> dict:
    """Train the offline learner ``algo`` on the dataset folder ``path`` (or on ``data = (transitions,
    metadata)``) over ``seeds`` vmapped seeds, ``updates`` (``--steps``) gradient steps exactly where whole
    chunks allow; evaluate each seed's final policy for ``episodes`` episodes on the dataset's env (realism
    included) and score it (``score``). ``check``: refuse a dataset that fails ``minari_io.verify``."""
    from realax.offline import loader
    from realax.offline.generate import env_of

    for name, value in (("seeds", seeds), ("episodes", episodes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RealaxError(f"{name} must be a whole number >= 1, got {value!r}")
    check_offline(algo)
    overrides = {**plan_updates(updates, overrides or {}), "num_seeds": seeds}
    make_config(algo, overrides)  # unknown field or bad value: fail before reading the data
    transitions, meta = data if data is not None else loader.load(path, check=check)
    env, params = env_of(meta)
    t0 = time.perf_counter()
    result = run(algo, env, params, overrides, seed=seed, episodes=episodes, progress=progress, data=transitions,
                 folder=folder)
    out = score(result, meta, path)
    out["wall_seconds"] = time.perf_counter() - t0
    if folder is not None:
        finish(result, folder, f"{algo} on {path}")
    return out


def format_table(r: Result) -> str:
    seeds = r.agent_returns.mean(-1)
    win = lambda w: "" if w is None else f"  win rate {w.mean():.3f}"  # noqa: E731
    lines = [f"{'policy':<18s} {'return (mean ± std)':>22s}",
             f"{r.algo + ' (greedy)':<18s} {seeds.mean():>12.2f} ± {seeds.std():<7.2f}  over {len(seeds)} seeds "
             f"× {r.agent_returns.shape[1]} episodes; {int(r.curve_steps[-1])} env steps/seed in "
             f"{r.wall_seconds:.0f} s{win(r.agent_wins)}"]
    for name, ret in r.baseline_returns.items():
        lines.append(f"{name:<18s} {ret.mean():>12.2f} ± {ret.std():<7.2f}  over {len(ret)} episodes"
                     f"{win(r.baseline_wins.get(name))}")
    return "\n".join(lines)


def _plot(r: Result, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    x = r.curve_steps
    y = r.curve_returns
    seen = np.isfinite(y).any(0)  # NaN until the first episode of a run has finished
    x, y = x[seen], y[:, seen]
    mean, lo, hi = np.nanmean(y, 0), np.nanmin(y, 0), np.nanmax(y, 0)
    ax.plot(x, mean, label=f"{r.algo} (mean of {y.shape[0]} seeds)")
    ax.fill_between(x, lo, hi, alpha=0.25)
    for name, ret in r.baseline_returns.items():
        ax.axhline(ret.mean(), ls="--", lw=1, color="grey" if name == "random" else "C3", label=name)
    ax.set_xlabel("environment steps per seed")
    ax.set_ylabel("episode return")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
