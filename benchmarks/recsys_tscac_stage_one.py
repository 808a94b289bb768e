"""What TSCAC's stage-one policies reach on ShortVideo-v0, alone and mixed (issue 13's TSCAC claim).

    python benchmarks/recsys_tscac_stage_one.py      # writes benchmarks/results/recsys_tscac_stage_one.md

TSCAC's stage two (``realax.agents.tscac``) pulls the main policy towards the weighted geometric mean of the
stage-one policies, ``pi* ∝ prod_i pi_i^(lambda_i / sum_j lambda_j) exp(A_1 / sum_j lambda_j)`` (Cai et al.,
WWW 2023); with ``kl_coef`` 1-10 the advantage term barely tilts it (docs/envs/recsys.md). So the signal rates
that stage two can reach are bounded by what those mixtures reach. This script trains stage one exactly as the
published TSCAC row of ``benchmarks/recsys_constrained.py`` does (3 seeds, 500,000 env steps per stage-one
policy, signals undiscounted; stage two is given a single update and not used), then evaluates, greedily and
with that script's evaluation (``EPISODES`` per seed, the same keys, per-request rates), each stage-one policy
alone and the geometric means ``argmax_a sum_i w_i log pi_i(a|s)`` for a few weightings ``w`` (the paper's
``lambda_i``, normalised): equal (the paper's production setting) and ones that favour the short signals.
"""

from __future__ import annotations

from realax import _xla

_xla.configure()

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from recsys_constrained import AUX_DISCOUNT, ENV_ID, EPISODES, KL_COEF, SHARED, STAGE1, rates  # noqa: E402

import realax  # noqa: E402
from realax import experiment  # noqa: E402
from realax.agents.algorithms import make_config  # noqa: E402
from realax.agents.evaluate import evaluate_episodes  # noqa: E402
from realax.agents.networks import actor_critic_for  # noqa: E402
from realax.bench import device_name  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "recsys_tscac_stage_one.md"
#: weightings of the five stage-one policies (follow, like, comment, share, hate), normalised before use
MIXTURES = {"equal (the paper's production setting)": (1, 1, 1, 1, 1), "comment x2": (1, 1, 2, 1, 1),
            "comment x2, hate x2": (1, 1, 2, 1, 2), "comment x3": (1, 1, 3, 1, 1),
            "comment x3, hate x2, like x0.5": (1, 0.5, 3, 1, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=EPISODES)
    ap.add_argument("--stage1", type=int, default=STAGE1)
    args = ap.parse_args()
    env, params = realax.make(ENV_ID)
    signals, thresholds = env.unwrapped.signals, np.asarray(params.thresholds)
    lower = np.asarray(params.lower_bound)
    overrides = {**SHARED, "total_timesteps": 1, "stage1_timesteps": args.stage1, "kl_coef": KL_COEF,
                 "aux_gammas": ",".join([f"{AUX_DISCOUNT:g}"] * len(signals)), "num_seeds": args.seeds}
    t0 = time.perf_counter()
    result = experiment.run("tscac", env, params, overrides, seed=0, progress=False, evaluate=False)
    train_s = time.perf_counter() - t0
    aux = result.carry.aux.train_state.params  # [seeds, M, ...]
    net = actor_critic_for(env, params, make_config("tscac", overrides).hidden)

    def mixture(p, w):
        def act(key, obs, state):
            logp = jax.vmap(lambda q: jax.nn.log_softmax(net.apply(q, obs)[0]))(p)  # [M, actions]
            return jnp.argmax((w[:, None] * logp).sum(0))
        return act

    evaluate = jax.jit(jax.vmap(lambda p, w, k: evaluate_episodes(env, params, mixture(p, w), k, args.episodes,
                                                                  sums=("cost", "present")), in_axes=(0, None, 0)))
    keys = jax.random.split(jax.random.key(20_000), args.seeds)  # recsys_constrained.py's evaluation keys
    rows = [(f"{s} policy alone", np.eye(len(signals))[i]) for i, s in enumerate(signals)]
    rows += [(name, np.asarray(w, float) / np.sum(w)) for name, w in MIXTURES.items()]
    lines = ["| stage-one policy or mixture (weights) | watch time (10 s) |"
             + "".join(f" {s} ({'≥' if lo else '≤'} {t:g}) |" for s, t, lo in zip(signals, thresholds, lower,
                                                                                 strict=True)),
             "|" + "---|" * (len(signals) + 2)]
    for name, w in rows:
        out = jax.device_get(evaluate(aux, jnp.asarray(w, jnp.float32), keys))
        per_seed = [rates({k: v[i] for k, v in out.items()}) for i in range(args.seeds)]
        watch = np.array([x for x, _ in per_seed])
        r = np.stack([x for _, x in per_seed])
        cells = [f"{name} ({', '.join(f'{x:.2f}' for x in w)})", f"{watch.mean():.1f} ± {watch.std():.1f}"]
        for i, (t, lo) in enumerate(zip(thresholds, lower, strict=True)):
            ok = r[:, i].mean() >= t if lo else r[:, i].mean() <= t
            cells.append(f"{r[:, i].mean():.4f} ± {r[:, i].std():.4f} " + ("✓" if ok else "✗"))
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    head = (f"`python benchmarks/recsys_tscac_stage_one.py --seeds {args.seeds} --episodes {args.episodes} "
            f"--stage1 {args.stage1}` on {device_name()} ({platform.machine()}, jax {jax.__version__}); stage one "
            f"trained in {train_s:.0f} s. Greedy policies, per-request rates, mean ± std over {args.seeds} seeds "
            f"(✓/✗ by the mean against the threshold).\n\n")
    RESULTS.write_text(head + "\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
