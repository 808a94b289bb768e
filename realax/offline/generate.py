"""Dataset generation at JAX speed: ``jit(scan(vmap(step)))`` over chunks of steps, never a per-step loop.

``collect`` runs ``N`` environments side by side; each must finish its quota of ``q`` whole episodes
(``q = ceil(episodes / N)``), so every stored episode is one of the first ``q`` of its stream (a fixed count
per stream, not "whatever finished by time T", which would favour short episodes). A progress bar advances
once per chunk. ``generate`` builds the env (realism wrappers included), the behaviour and the reference
returns from a ``DataSpec`` and returns the episodes and their metadata; ``minari_io.write`` stores them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import realax
from realax import sharding
from realax.agents.evaluate import actor
from realax.core import is_multi_agent
from realax.errors import RealaxError
from realax.offline import policies
from realax.offline.episodes import Episodes
from realax.wrappers.gymnasium import reset_keys
from realax.wrappers.realism import RealismConfig

#: NeoRL-2's validation share: ``traj_num / 4`` validation trajectories beside ``traj_num`` training ones
#: (``neorl2/envs/base.py``), i.e. 1/5 of all episodes.
DEFAULT_VAL_FRACTION = 0.2
#: episodes averaged for ``ref_min_score``/``ref_max_score`` (Minari's ``num_episodes_average_score`` default)
REF_EPISODES = 100


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """Everything that determines a dataset; stored in its metadata and enough to regenerate it."""

    env_id: str
    policy: str = "random"  # "random", a baseline name, or a folder written by `realax train`
    episodes: int = 100
    seed: int = 0
    level: float = 1.0  # probability of the policy's action (else uniform random); see policies.py
    noise: float = 0.0  # Gaussian action noise for continuous actions, in half-ranges
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    realism: RealismConfig = dataclasses.field(default_factory=RealismConfig)
    val_fraction: float = DEFAULT_VAL_FRACTION
    expert: str | None = None  # expert reference policy; None: the best of policies.expert_candidates
    propensities: bool = False  # record infos["propensity"], the behaviour's probability of each logged action

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["realism"] = self.realism.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DataSpec:
        d = dict(d)
        d["realism"] = RealismConfig.from_dict(d.get("realism"))
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

    def resolved(self) -> "DataSpec":
        """The spec with the env options of saved-agent policies filled in (``RealaxError`` on a clash, or for
        an agent of another env)."""
        kwargs = policies.agent_env_kwargs(self.policy, self.env_id, self.env_kwargs)
        if self.expert:
            kwargs = policies.agent_env_kwargs(self.expert, self.env_id, kwargs)
        return dataclasses.replace(self, env_kwargs=kwargs)

    def validate(self) -> None:
        """A ``RealaxError`` for a count or share out of range (before anything is built or collected)."""
        if isinstance(self.episodes, bool) or not isinstance(self.episodes, numbers.Integral) or self.episodes < 1:
            raise RealaxError(f"episodes must be a whole number >= 1, got {self.episodes!r}")
        if not 0.0 <= float(self.level) <= 1.0:
            raise RealaxError(f"level must be in [0, 1] (probability of the policy's action), got {self.level}")
        if not 0.0 <= float(self.val_fraction) < 1.0:
            raise RealaxError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.propensities and (self.noise or self.realism.conservative is not None):
            raise RealaxError("propensities are probabilities of discrete actions; --noise and --conservative "
                              "make continuous ones (give neither with --propensities)")
        if not float(self.noise) >= 0.0:
            raise RealaxError(f"noise must be >= 0, got {self.noise}")


@dataclasses.dataclass
class Setup:
    env: Any  # with realism wrappers
    params: Any
    base_env: Any
    base_params: Any

    @property
    def multi_agent(self) -> bool:
        return is_multi_agent(self.base_env)


def build(spec: DataSpec) -> Setup:
    """The environment of a spec, realism wrappers on (``ValueError`` for an unknown id or option)."""
    base_env, base_params = realax.make(spec.env_id, **spec.env_kwargs)
    env, params = spec.realism.apply(base_env, base_params)
    return Setup(env, params, base_env, base_params)


def behaviour_of(setup: Setup, spec: DataSpec, policy: str | None = None, plain: bool = False):
    """``act(key, obs, state, level)`` for ``policy`` (default ``spec.policy``); ``plain`` drops the noise
    and the conservative mode (for the reference policies)."""
    fn = policies.resolve(policy or spec.policy, spec.env_id, setup.base_env, setup.base_params)
    return policies.behaviour(setup.env, setup.params, setup.base_env, setup.base_params, fn,
                              noise=0.0 if plain else spec.noise,
                              conservative_width=None if plain else spec.realism.conservative)


def propensity_of(setup: Setup, spec: DataSpec):
    """``prop(key, obs, state, level, action)`` of the behaviour (``policies.propensity``), after checking that
    the policy is ``random`` or deterministic: its actions on a batch of start states are the same for two
    keys (a ``RealaxError`` names a policy that draws)."""
    fn = policies.resolve(spec.policy, spec.env_id, setup.base_env, setup.base_params)
    is_random = spec.policy == "random"
    if not is_random:
        def draws(keys: jax.Array, other: jax.Array) -> jax.Array:  # one program (op by op, each op compiles alone)
            obs, state = jax.vmap(setup.env.reset, in_axes=(0, None))(keys, setup.params)
            act = jax.vmap(actor(setup.env, setup.params, fn))
            return jnp.any(act(keys, obs, state) != act(other, obs, state))

        keys = jax.random.split(jax.random.key(spec.seed + 17), 64)
        if bool(jax.jit(draws)(keys, jax.random.split(keys[0], 64))):
            raise RealaxError(f"policy {spec.policy!r} draws its actions at random: propensities are recorded "
                              f"for random and deterministic policies only")
    return policies.propensity(setup.env, setup.params, setup.base_env, setup.base_params, fn, is_random)


def _layout(episodes: int, max_envs: int) -> tuple[int, int]:
    q = math.ceil(episodes / max_envs)
    return math.ceil(episodes / q), q


def _nbytes(space, agents: int) -> int:
    return agents * int(np.prod(space.shape, dtype=np.int64)) * np.dtype(space.dtype).itemsize


def check_size(setup: Setup, episodes: int, max_envs: int) -> int:
    """The bytes ``collect`` may hold for ``episodes`` (observations twice, actions, rewards, flags; every
    episode at its step limit), or a ``RealaxError`` before any allocation when that exceeds the machine's
    memory."""
    n, q = _layout(int(episodes), int(max_envs))
    agents = setup.base_env.num_agents if setup.multi_agent else 1
    per_step = (2 * _nbytes(setup.env.observation_space(setup.params), agents)
                + _nbytes(setup.env.action_space(setup.params), agents) + 4 * agents + 2 + 4)
    steps = n * (q * int(setup.params.max_steps) + min(max(int(setup.params.max_steps), 16), 500))
    need = steps * per_step
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return need
    if need > have:
        raise RealaxError(f"{episodes} episodes of up to {int(setup.params.max_steps)} steps may need "
                          f"{need / 2**30:,.1f} GiB ({per_step} bytes a transition), more than this machine's "
                          f"{have / 2**30:,.1f} GiB of memory; collect fewer episodes per dataset")
    return need


def collect(env, params, act, key: jax.Array, episodes: int, level: float | tuple[float, float] = 1.0,
            max_envs: int = 1024, chunk: int | None = None, progress: bool = True, desc: str = "collect",
            devices: int | None = None, part: tuple[int, int] = (0, 1), prop=None) -> Episodes:
    """``episodes`` whole episodes of ``act`` on ``env``, vectorised.

    ``level`` is the behaviour level of every env, or ``(first, last)``: a linear schedule over the ``N``
    parallel envs (the replay proxy of ``measures``). Chunks of ``chunk`` steps (default: the episode
    limit, clamped to 16..500) are one jitted ``lax.scan`` of a vmapped step each. The ``N`` envs are split
    over ``devices`` devices (``realax.sharding.mesh_for``; ``None``: as many as split them evenly); the
    episodes are the same, bit for bit, on any number of devices (each env's stream is computed alone).

    ``part=(i, k)``: only the ``i``-th of ``k`` equal runs of the parallel envs (processes of one dataset
    each collect one part; ``Episodes.concatenate`` of parts ``0..k-1`` is the whole collection, bit for bit).
    ``prop`` (``propensity_of``): also record each action's probability under the behaviour,
    ``infos["propensity"]``.
    """
    return _collect(env, params, (act,), key, episodes, level, max_envs, chunk, progress, desc, devices, part, prop)[0]


def collect_each(env, params, acts, key: jax.Array, episodes: int, level: float | tuple[float, float] = 1.0,
                 max_envs: int = 1024, chunk: int | None = None, progress: bool = True, desc: str = "collect",
                 devices: int | None = None) -> list[Episodes]:
    """``[collect(env, params, act, key, episodes, ...) for act in acts]``, the same episodes, in one program: the
    behaviours run side by side, each on its own copy of the parallel environments (the same keys and start
    states), and one vmapped env step advances all copies. One compilation of the env instead of one per
    behaviour: cold, ``realax data generate realax/Spectrum-v0`` spent most of its time compiling a program for
    each of its three reference policies. ``max_envs`` bounds all copies together: when they do not fit, the
    behaviours run one after another (the same episodes)."""
    acts = tuple(acts)
    if not acts:  # e.g. an env with no expert candidate (choose_expert)
        return []
    if len(acts) * _layout(int(episodes), int(max_envs))[0] > max_envs:
        return [collect(env, params, act, key, episodes, level, max_envs, chunk, progress, desc, devices)
                for act in acts]
    return _collect(env, params, acts, key, episodes, level, max_envs, chunk, progress, desc, devices, (0, 1), None)


def _collect(env, params, acts: tuple, key: jax.Array, episodes: int, level, max_envs: int, chunk: int | None,
             progress: bool, desc: str, devices: int | None, part: tuple[int, int], prop) -> list[Episodes]:
    n, q = _layout(int(episodes), int(max_envs))
    i, k = part
    first, end = i * n // k, (i + 1) * n // k  # this part's parallel envs
    if first == end:
        raise RealaxError(f"part {i} of {k} has no environment: {episodes} episodes run as {n} parallel "
                          f"environments; use at most {n} parts")
    max_steps = int(params.max_steps)
    T = int(chunk or min(max(max_steps, 16), 500))
    lo, hi = (level, level) if np.isscalar(level) else level
    levels = jnp.linspace(float(lo), float(hi), n, dtype=jnp.float32) if n > 1 else jnp.full((1,), lo, jnp.float32)
    k_seeds, k_run = jax.random.split(key)
    seeds = episode_seeds(k_seeds, n * q)
    starts = reset_keys(seeds).reshape(n, q)  # episode j of stream i starts from the key of seed i * q + j
    keys = jax.random.split(k_run, n)
    levels, starts, keys, seeds = levels[first:end], starts[first:end], keys[first:end], seeds[first * q:end * q]
    n, cut = end - first, min(max(int(episodes) - first * q, 0), (end - first) * q)  # its envs, episodes kept
    b = len(acts)  # side by side: b copies of the n envs, copy j running acts[j] (collect_each)
    if b > 1:
        levels, starts, keys = jnp.tile(levels, b), jnp.tile(starts, (b, 1)), jnp.tile(keys, b)
    mesh = sharding.mesh_for(n * b, devices, f"the parallel environments ({episodes} episodes, at most {max_envs} "
                                             f"side by side{f', part {i} of {k}' if k > 1 else ''})")
    levels, starts = sharding.split_leading((levels, starts), mesh)
    obs, state = _reset_runner(env)(starts[:, 0], params)
    state0 = jax.tree.map(lambda x: x[0], state)
    probe = jax.eval_shape(lambda: env.step(k_run, state0, acts[0](k_run, obs[0], state0, levels[0]), params)[5])
    run_chunk = _chunk_runner(env, acts, T, "cost" in probe, prop)
    carry = sharding.split_leading((obs, state, keys, jnp.zeros(n * b, jnp.int32)), mesh)
    bound = math.ceil(q * max_steps / T) + 1
    chunks, done_count = [], np.zeros(n * b, np.int64)
    from tqdm import tqdm

    bar = tqdm(total=bound - 1, desc=desc, unit="chunk", disable=not progress)
    for _ in range(bound + 1):
        carry, rec = run_chunk(carry, levels, starts, params)
        rec = jax.device_get(rec)
        chunks.append(rec)
        done_count += (rec["term"] | rec["trunc"]).sum(0)
        bar.update(1)
        bar.set_postfix(episodes=int(np.minimum(done_count, q).sum()), transitions=len(chunks) * T * n * b)
        if done_count.min() >= q:
            break
    bar.close()
    if done_count.min() < q:
        raise RuntimeError(f"episodes did not end within {bound} chunks of {T} steps (max_steps={max_steps})")
    if b == 1:
        return [_assemble(chunks, n, q, cut, "cost" in probe, seeds)]
    every = _assemble(chunks, n * b, q, n * b * q, "cost" in probe, np.tile(seeds, b))
    return [every.take(j * n * q, cut) for j in range(b)]


def episode_seeds(key: jax.Array, count: int) -> np.ndarray:
    """``int64 [count]``: a reset seed per episode (32-bit, drawn from ``key``)."""
    return np.asarray(jax.random.bits(key, (count,), jnp.uint32)).astype(np.int64)


@functools.lru_cache(maxsize=32)
def _reset_runner(env):
    return jax.jit(jax.vmap(env.reset_env, in_axes=(0, None)))


@functools.lru_cache(maxsize=32)
def _chunk_runner(env, acts: tuple, T: int, has_cost: bool, prop=None):
    """One jitted chunk, ``run_chunk(carry, levels, starts, params) -> (carry, records [T, N, ...])``; cached per
    (env, behaviours), so collecting again with the same behaviours (other levels, keys) does not recompile.

    Each step is the base class's ``step`` (``step_env``, then ``reset_env`` where the episode ended) with the
    step key it would use, but the reset key is the next of the stream's ``starts`` (the keys of the episodes'
    recorded seeds) instead of one split from the step key. With several behaviours (``collect_each``) the ``N``
    envs are ``len(acts)`` equal blocks: each behaviour acts, vmapped, on its block only, then one vmapped step
    advances them all."""

    def act_all(k_act, o, s, lvl):
        blocks = jax.tree.map(lambda x: x.reshape(len(acts), -1, *x.shape[1:]), (k_act, o, s, lvl))
        a = [jax.vmap(act)(*jax.tree.map(lambda x, j=j: x[j], blocks)) for j, act in enumerate(acts)]
        return jnp.concatenate(a) if len(a) > 1 else a[0]

    def one_env(k_env, o, s, a, count, starts, p):
        key_step, _ = jax.random.split(k_env)  # as Environment.step splits its key
        o_end, s_end, r, te, tr, info = env.step_env(key_step, s, a, p)
        done = te | tr
        count = count + done
        o_re, s_re = env.reset_env(starts[jnp.minimum(count, starts.shape[0] - 1)], p)  # past the quota: dropped
        o2 = jnp.where(done, o_re, o_end)
        s2 = jax.tree.map(lambda x, y: jnp.where(done, x, y), s_re, s_end)
        rec = {"obs": o, "action": a, "reward": r, "term": te, "trunc": tr, "next_obs": o_end,
               "info": {key: v for key, v in info.items() if key not in ("cost", "final_obs")}}
        if has_cost:
            rec["cost"] = jnp.atleast_1d(info["cost"])
        return o2, s2, count, rec

    @jax.jit
    def run_chunk(carry, levels, starts, p):
        def body(c, _):
            o, s, k, count = c
            ks = jax.vmap(jax.random.split)(k)
            kk = jax.vmap(jax.random.split)(ks[:, 0])  # as each env split its key: (action, step)
            k_act, k_env = kk[:, 0], kk[:, 1]
            a = act_all(k_act, o, s, levels)
            o2, s2, count, rec = jax.vmap(one_env, in_axes=(0, 0, 0, 0, 0, 0, None))(k_env, o, s, a, count, starts, p)
            if prop is not None:
                rec["info"]["propensity"] = jax.vmap(prop)(k_act, o, s, levels, a)
            return (o2, s2, ks[:, 1], count), rec

        return jax.lax.scan(body, carry, None, length=T)

    return run_chunk


def _assemble(chunks: list[dict], n: int, q: int, episodes: int, has_cost: bool, seeds: np.ndarray) -> Episodes:
    """First ``q`` whole episodes of each of ``n`` streams, env-major, cut to ``episodes``."""
    env_major = lambda parts: np.swapaxes(np.concatenate(parts), 0, 1)
    done = env_major([c["term"] for c in chunks]) | env_major([c["trunc"] for c in chunks])
    ep_idx = np.cumsum(done, axis=1) - done  # episode number of each transition in its stream
    keep = ep_idx < q
    lengths = np.bincount((np.arange(n)[:, None] * q + ep_idx)[keep], minlength=n * q)[:episodes]
    total = int(lengths.sum())
    take = lambda parts: env_major(parts)[keep][:total]
    field = lambda k: take([c[k] for c in chunks])
    infos = {k: take([c["info"][k] for c in chunks]) for k in chunks[0]["info"]}
    return Episodes(field("obs"), field("next_obs"), field("action"), field("reward"), field("term"), field("trunc"),
                    lengths, field("cost") if has_cost else None, infos, seeds[:episodes])


def mean_return(setup: Setup, act, key, episodes: int, progress: bool = False, desc: str = "reference",
                devices: int | None = None) -> float:
    return mean_returns(setup, [act], key, episodes, progress, desc, devices)[0]


def mean_returns(setup: Setup, acts, key, episodes: int, progress: bool = False, desc: str = "reference",
                 devices: int | None = None) -> list[float]:
    """The mean return of each of ``acts`` over the same ``episodes`` starts (``collect_each``: one program)."""
    each = collect_each(setup.env, setup.params, acts, key, episodes, progress=progress, desc=desc, devices=devices)
    return [float(eps.returns().mean()) for eps in each]


def calibrate_level(setup: Setup, spec: DataSpec, fraction: float, episodes: int = 64, iters: int = 8) -> float:
    """The level whose mean return is ``fraction`` of the way from the random policy (0) to the policy
    itself (1), by bisection (the share is taken to grow with the level, whether the policy beats random or not)."""
    if not 0.0 <= fraction <= 1.0:
        raise RealaxError(f"return fraction must be in [0, 1], got {fraction}")
    act = behaviour_of(setup, spec)
    key = jax.random.key(spec.seed + 7919)

    def ret(lvl):  # the same behaviour at another level: one compilation for all calls
        return float(collect(setup.env, setup.params, act, key, episodes, level=lvl, progress=False).returns().mean())

    r0, r1 = ret(0.0), ret(1.0)
    if r0 == r1:
        raise RealaxError(f"{spec.policy} and the random policy have the same return ({r0}); no level between")
    lo, hi = 0.0, 1.0
    for _ in range(iters):  # on the share of the way from random to the policy, whichever sign r1 - r0 has
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (ret(mid) - r0) / (r1 - r0) < fraction else (lo, mid)
    return (lo + hi) / 2


def expert_names(setup: Setup, spec: DataSpec) -> list[str]:
    """The expert reference's candidates: the given expert, else ``policies.expert_candidates``."""
    return [spec.expert] if spec.expert else policies.expert_candidates(spec.policy, setup.base_env)


def choose_expert(setup: Setup, spec: DataSpec, key, random_return: float, returns: dict | None = None) -> dict:
    """The expert reference and what it was chosen from, as metadata: ``expert_policy`` (``spec.expert`` when
    given, else the best of ``policies.expert_candidates`` by mean return over ``REF_EPISODES`` episodes on the
    dataset's env), ``ref_max_score`` (its return), ``expert_candidates`` (every candidate's return),
    ``expert_choice`` and ``reference_ordered`` (expert above random: else normalised scores and TQ are
    undefined, and ``reference_warning`` says so). On RFRL's jam scenarios, for one, sense-and-avoid is worse
    than random; taking it as the expert would invert every normalised score. ``returns``: the candidates' mean
    returns when they are measured already."""
    given = bool(spec.expert)
    names = expert_names(setup, spec)
    if returns is None:
        returns = dict(zip(names, mean_returns(setup, [behaviour_of(setup, spec, n, plain=True) for n in names], key,
                                               REF_EPISODES), strict=True))
    out = {"expert_candidates": returns,
           "expert_choice": "given" if given else "best mean return of the candidates", "reference_ordered": False}
    if not returns:
        out.update(expert_policy=None, reference_warning=f"{spec.env_id} has no non-random policy to serve as the "
                   f"expert reference; pass an expert (--expert) to get normalised scores and TQ")
        return out
    best = max(returns, key=returns.get)  # ties: the first (the behaviour policy)
    out.update(expert_policy=best, ref_max_score=returns[best], reference_ordered=returns[best] > random_return)
    if not out["reference_ordered"]:
        tried = "the given expert" if given else f"the best of {names}"
        out["reference_warning"] = (
            f"the expert reference {best} ({tried}; mean return {returns[best]:.6g}) does not beat the random "
            f"policy ({random_return:.6g}) on this env: normalised scores and TQ are undefined and are not "
            f"reported (raw returns are); give a better --expert")
    return out


def generate(spec: DataSpec, progress: bool = True, max_envs: int = 1024,
             references: bool = True, devices: int | None = None, part: tuple[int, int] = (0, 1)
             ) -> tuple[Episodes, dict]:
    """The episodes of ``spec`` and their metadata (env, params, policy, level, seed, realism, split,
    ``ref_min_score`` = random policy, ``ref_max_score`` = expert (``choose_expert``), over ``REF_EPISODES``
    episodes). ``references=False``: no reference returns, the expert is the first candidate, unmeasured.
    ``devices``: the collection is split over that many devices (``collect``; the same episodes on any number).
    ``part=(i, k)``: the ``i``-th of ``k`` parts of the episodes (``collect``), its metadata saying so
    (``"part"``); the reference returns are measured in part 0 only."""
    spec.validate()
    spec = spec.resolved()
    setup = build(spec)
    check_size(setup, spec.episodes, max_envs)
    act = behaviour_of(setup, spec)
    t0 = time.perf_counter()
    eps = collect(setup.env, setup.params, act, jax.random.key(spec.seed), spec.episodes, level=spec.level,
                  max_envs=max_envs, progress=progress, desc=f"{spec.env_id} {spec.policy}", devices=devices,
                  part=part, prop=propensity_of(setup, spec) if spec.propensities else None)
    seconds = time.perf_counter() - t0
    meta = {"spec": spec.to_dict(), "env_id": spec.env_id, "env_kwargs": spec.env_kwargs,
            "env_params": params_to_json(setup.params), "policy": spec.policy, "level": spec.level,
            "noise": spec.noise, "seed": spec.seed, "realism": spec.realism.to_dict(),
            "expert_policy": spec.expert or policies.default_expert(spec.policy, setup.base_env),
            "multi_agent": setup.multi_agent,
            "agents": list(setup.base_env.agents) if setup.multi_agent else None,
            "collect_seconds": seconds, "max_envs": int(max_envs), "realax_version": realax.__version__,
            **episode_meta(eps, spec)}
    if part[1] > 1:
        meta["part"] = list(part)
    if references and part[0] == 0:
        meta.update(reference_meta(spec))
    return eps, meta


def reference_meta(spec: DataSpec) -> dict:
    """The reference returns of ``spec``'s env as metadata: ``ref_min_score`` (the random policy's mean return
    over ``REF_EPISODES`` episodes), the expert's (``choose_expert``) and ``num_episodes_average_score``.
    They do not depend on the dataset's episodes, so ``dataset.generate_dataset`` measures them while it writes."""
    spec = spec.resolved()
    setup = build(spec)
    key = jax.random.key(spec.seed + 1_000_003)
    names = expert_names(setup, spec)  # measured beside the random policy, in one program
    random_return, *returns = mean_returns(setup, [behaviour_of(setup, spec, n, plain=True) for n in ["random", *names]],
                                           key, REF_EPISODES)
    meta = {"ref_min_score": random_return}
    meta.update(choose_expert(setup, spec, key, random_return, dict(zip(names, returns, strict=True))))
    meta["num_episodes_average_score"] = REF_EPISODES
    return meta


def episode_meta(eps: Episodes, spec: DataSpec) -> dict:
    """The metadata that depends on the episodes: counts, train/validation split, behaviour return, costs."""
    n_val = round(spec.val_fraction * eps.num_episodes)
    n_train = eps.num_episodes - n_val
    meta = {"split": {"train": [0, n_train], "validation": [n_train, eps.num_episodes]},
            "total_steps": eps.num_steps, "total_episodes": eps.num_episodes,
            "behaviour_return": float(eps.returns().mean())}
    if eps.costs is not None:
        ec = eps.episode_costs()
        meta["episode_cost_mean"] = float(ec.mean())
        if spec.realism.cost_budget is not None:  # an env's own info["cost"] is recorded without a budget too
            meta["over_budget_fraction"] = float(np.mean(ec > spec.realism.cost_budget))
    return meta


def params_to_json(params) -> Any:
    """Params as nested lists/numbers (for metadata)."""
    from flax import serialization

    def clean(x):
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        arr = np.asarray(x)
        return arr.item() if arr.ndim == 0 else arr.tolist()

    return clean(serialization.to_state_dict(params))


def env_of(meta: dict):
    """``(env, params)`` the dataset was collected on, realism wrappers on."""
    setup = build(DataSpec.from_dict(meta["spec"]))
    return setup.env, setup.params
