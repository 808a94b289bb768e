"""SpectrumIQ-v0's sensing: detection and false-alarm rates against SNR, for the energy detector and CFAR.

    python benchmarks/spectrum_iq_detection.py     # writes benchmarks/results/spectrum_iq_detection.md and
                                                   # docs/img/spectrum_iq_detection.png

Setting (issue 14, item 4): the ``mixed`` scenario at the default 1,024 complex samples per step, every entity at
one in-channel SNR (``snr_db=``; mean burst power over the noise power in one channel), the radio silent (action
0, so only the entities are on the air), AWGN sigma 0.01. For each SNR, ``EPISODES`` whole episodes (100 steps)
under one ``jit``; the rates are pooled counts over all of them: detection rate = channels
flagged while occupied / channels occupied, false-alarm rate = channels flagged while vacant / channels vacant
(the env's ``info`` counts). The energy detector's threshold is RFRL Gym's 0.001 (``iq.RFRL_THRESHOLD``); its
exact false-alarm probability on a noise-only channel (``iq.false_alarm_probability``) is printed beside it.
A false alarm at high SNR is a vacant channel next to a loud one (the bursts' spectra leak over channel edges).
"""

from __future__ import annotations

import argparse
import os
import platform

from realax import _xla

_xla.configure()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import realax  # noqa: E402
from realax.agents.evaluate import evaluate_episodes  # noqa: E402
from realax.bench import device_name  # noqa: E402
from realax.envs.spectrum import iq  # noqa: E402

SNRS = (-10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0)
EPISODES = 64


def rates(detector: str, scenario: str = "mixed") -> tuple[np.ndarray, np.ndarray]:
    """``(detection rate [S], false-alarm rate [S])`` over ``SNRS``: ``EPISODES`` whole episodes per SNR
    (``realax.agents.evaluate.evaluate_episodes``, summing the env's ``info`` counts), pooled."""
    env, params = realax.make("realax/SpectrumIQ-v0", scenario=scenario, detector=detector)
    silent = lambda key, obs: jnp.int32(0)  # noqa: E731 (only the entities are on the air)
    names = ("detected", "occupied", "false_alarms", "vacant")

    def one(snr, key):
        p = params.replace(snr_db=jnp.full_like(params.snr_db, snr))
        sums = evaluate_episodes(env, p, silent, key, EPISODES, sums=names)
        return jnp.stack([sums[n].sum() for n in names])

    counts = np.asarray(jax.jit(jax.vmap(one))(jnp.asarray(SNRS), jax.random.split(jax.random.key(0), len(SNRS))),
                        np.float64)
    return counts[:, 0] / np.maximum(counts[:, 1], 1), counts[:, 2] / np.maximum(counts[:, 3], 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "spectrum_iq_detection.md"))
    ap.add_argument("--plot", default=os.path.join(os.path.dirname(__file__), "..", "docs", "img",
                                                   "spectrum_iq_detection.png"))
    args = ap.parse_args()
    env, params = realax.make("realax/SpectrumIQ-v0", scenario="mixed")
    bins = env.samples_per_step // env.num_channels
    p_fa = float(iq.false_alarm_probability(float(params.threshold), float(params.noise_std), env.samples_per_step,
                                            bins))
    p_fa_text = f"{p_fa:.1e}" if p_fa > 0 else "0 in float32 (the threshold is ~20 dB over the noise)"
    found = {d: rates(d) for d in ("energy", "cfar")}
    lines = ["# SpectrumIQ-v0: detection and false alarms against SNR\n",
             f"`python benchmarks/spectrum_iq_detection.py` on {device_name()} ({platform.processor() or 'cpu'}), "
             f"jax {jax.__version__}: scenario `mixed`, {env.samples_per_step} samples per step, every entity at the "
             f"SNR of the row, the radio silent, {EPISODES} episodes of {int(params.max_steps)} steps per SNR, pooled counts. "
             f"The energy "
             f"detector's exact false-alarm probability on a noise-only channel of {bins} bins at threshold "
             f"{float(params.threshold):g}: {p_fa_text}.\n",
             "| SNR (dB) | energy: detection | energy: false alarm | CFAR: detection | CFAR: false alarm |",
             "|---:|---:|---:|---:|---:|"]
    for i, snr in enumerate(SNRS):
        (ed, ef), (cd, cf) = ((found[d][0][i], found[d][1][i]) for d in ("energy", "cfar"))
        lines.append(f"| {snr:g} | {ed:.3f} | {ef:.4f} | {cd:.3f} | {cf:.4f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for d, colour in (("energy", "tab:blue"), ("cfar", "tab:orange")):
        ax.plot(SNRS, found[d][0], "o-", color=colour, label=f"{d}: detection rate")
        ax.plot(SNRS, found[d][1], "s--", color=colour, label=f"{d}: false-alarm rate")
    ax.axhline(p_fa, color="grey", lw=0.8, ls=":", label=f"energy detector's theoretical P_fa ({p_fa:.1g})")
    ax.set_xlabel("in-channel SNR of every entity (dB)")
    ax.set_ylabel("rate (pooled over channels and steps)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"SpectrumIQ-v0 sensing ('mixed', {env.samples_per_step} samples/step, {EPISODES} episodes per SNR)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(args.plot)
    print("wrote", args.out, "and", args.plot)


if __name__ == "__main__":
    main()
