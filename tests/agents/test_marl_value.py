"""IQL/VDN/QMIX (``realax.agents.marl_q``, ``realax.agents.mixing``): QMIX's mixer is monotone, the targets and
losses equal plain Python loops, epsilon-greedy and dead agents respect the env's masks, QMIX and VDN learn the
2-radio SpectrumMA task of test_ippo.py, and IQL runs on SMAX through the experiment runner."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import realax
from realax.agents import marl_q
from realax.agents.evaluate import RecurrentPolicy, evaluate
from realax.agents.mixing import QMixer, lambda_returns, vdn
from tests.agents.test_ippo import OPTIMUM, two_radios  # noqa: F401 (fixture)
from tests.tuned import jit_tuned

T, B, A, N_ACT, S = 7, 3, 3, 5, 6


def random_sequences(key, done_rate=0.3):
    """A random time-major batch ``[T, B, ...]`` of sequences; every agent has a legal action everywhere."""
    ks = jax.random.split(key, 9)
    mask = jax.random.bernoulli(ks[0], 0.5, (T, B, A, N_ACT)).at[..., 2].set(True)
    done = jax.random.bernoulli(ks[1], done_rate, (T, B))
    term = done & jax.random.bernoulli(ks[2], 0.5, (T, B))
    return marl_q.Sequence(
        obs=None, next_obs=None, state=jax.random.normal(ks[3], (T, B, S)),
        next_state=jax.random.normal(ks[4], (T, B, S)), next_mask=mask,
        action=jax.random.randint(ks[5], (T, B, A), 0, N_ACT), reward=jax.random.normal(ks[6], (T, B, A)),
        alive=jax.random.bernoulli(ks[7], 0.7, (T, B, A)), next_alive=jax.random.bernoulli(ks[8], 0.7, (T, B, A)),
        start=jnp.zeros((T, B), bool), terminated=term, done=done, memory0=None)


def python_targets(q_on, q_tg, seq, gamma, lam, team):
    """The double-Q λ-returns, written out as a loop over each sequence from its end."""
    q_on, q_tg, mask = np.asarray(q_on), np.asarray(q_tg), np.asarray(seq.next_mask)
    alive_next, r = np.asarray(seq.next_alive), np.asarray(seq.reward, np.float64)
    term, done = np.asarray(seq.terminated), np.asarray(seq.done)
    nv = np.zeros((T, B, A))
    for t, b, i in itertools.product(range(T), range(B), range(A)):
        legal = [a for a in range(N_ACT) if mask[t, b, i, a]]
        best = max(legal, key=lambda a: q_on[t, b, i, a])
        nv[t, b, i] = q_tg[t, b, i, best] if alive_next[t, b, i] else 0.0
    out = np.zeros((T, B) if team else (T, B, A))
    for b in range(B):
        for i in range(1 if team else A):
            g = 0.0
            for t in reversed(range(T)):
                if team:
                    v, rew, ended, stop = team(nv[t, b], t, b), r[t, b].mean(), term[t, b], done[t, b]
                else:
                    gone = not alive_next[t, b, i]
                    v, rew, ended, stop = nv[t, b, i], r[t, b, i], term[t, b] or gone, done[t, b] or gone
                if ended:
                    g = rew
                elif stop or t == T - 1:
                    g = rew + gamma * v
                else:
                    g = rew + gamma * ((1 - lam) * v + lam * g)
                if team:
                    out[t, b] = g
                else:
                    out[t, b, i] = g
    return out


def test_qmix_mixer_is_monotone_in_every_agents_q():
    mixer = QMixer(embed=8, hypernet_hidden=16, init_scale=1.0)
    ks = jax.random.split(jax.random.key(0), 5)
    p = mixer.init(ks[0], jnp.zeros(A), jnp.zeros(S))
    leaves, tree = jax.tree.flatten(p)  # random parameters, not only the initial ones
    p = jax.tree.unflatten(tree, [x + jax.random.normal(k, x.shape) for x, k in
                                  zip(leaves, jax.random.split(ks[1], len(leaves)), strict=True)])
    q = 3.0 * jax.random.normal(ks[2], (256, A))
    s = jax.random.normal(ks[3], (256, S))
    grad = jax.jit(jax.vmap(jax.grad(lambda q, s: mixer.apply(p, q, s))))(q, s)
    assert float(grad.min()) >= 0.0 and float(grad.max()) > 0.1, (grad.min(), grad.max())
    up = q + jnp.abs(jax.random.normal(ks[4], q.shape)) * (jnp.arange(A) == jax.random.randint(ks[4], (256, 1), 0, A))
    mix = jax.jit(lambda q: mixer.apply(p, q, s))
    assert bool(jnp.all(mix(up) >= mix(q) - 1e-5))
    # the state matters: the same values mixed under other states give other totals
    assert float(jnp.abs(mixer.apply(p, q, s) - mixer.apply(p, q, s[::-1])).max()) > 1e-3


@pytest.mark.parametrize("lam", [0.0, 0.6])
def test_targets_and_losses_equal_python_loops(lam):
    gamma = 0.9
    seq = random_sequences(jax.random.key(1))
    ks = jax.random.split(jax.random.key(2), 3)
    q_on, q_tg, q = (jax.random.normal(k, (T, B, A, N_ACT)) for k in ks)
    targets = jax.jit(marl_q.td_targets, static_argnums=(3, 4, 5))
    # VDN: Q_tot is the sum of the agents' values
    y = targets(q_on, q_tg, seq, lambda q, s: vdn(q), gamma, lam)
    want = python_targets(q_on, q_tg, seq, gamma, lam, team=lambda nv, t, b: nv.sum())
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    chosen = np.take_along_axis(np.asarray(q), np.asarray(seq.action)[..., None], -1)[..., 0]
    q_tot = (chosen * np.asarray(seq.alive)).sum(-1)
    np.testing.assert_allclose(marl_q.td_loss(q, y, seq, lambda q, s: vdn(q)), ((q_tot - want) ** 2).mean(), rtol=1e-5)
    # an arbitrary mixer of (values, state) is what the team target bootstraps from
    mix = lambda q, s: (q * jnp.arange(1, A + 1)).sum(-1) + s.sum(-1)  # noqa: E731
    y = targets(q_on, q_tg, seq, mix, gamma, lam)
    ns = np.asarray(seq.next_state)
    want = python_targets(q_on, q_tg, seq, gamma, lam,
                          team=lambda nv, t, b: (nv * np.arange(1, A + 1)).sum() + ns[t, b].sum())
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    # independent learners: each agent's own reward, its death ends its episode, dead agents weigh nothing
    y = targets(q_on, q_tg, seq, None, gamma, lam)
    want = python_targets(q_on, q_tg, seq, gamma, lam, team=None)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    alive = np.asarray(seq.alive)
    np.testing.assert_allclose(marl_q.td_loss(q, y, seq, None), (alive * (chosen - want) ** 2).sum() / alive.sum(),
                               rtol=1e-5)


def test_lambda_returns_follow_the_recursion():
    r, v = jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.array([10.0, 20.0, 30.0, 40.0])
    no = jnp.zeros(4, bool)
    g = lambda_returns(r, v, no, no, 0.5, 0.5)
    g3 = 4 + 0.5 * 40
    g2 = 3 + 0.5 * (0.5 * 30 + 0.5 * g3)
    g1 = 2 + 0.5 * (0.5 * 20 + 0.5 * g2)
    np.testing.assert_allclose(g, [1 + 0.5 * (0.5 * 10 + 0.5 * g1), g1, g2, g3], rtol=1e-6)


def test_dead_agents_change_neither_the_qmix_loss_nor_its_gradient():
    seq = random_sequences(jax.random.key(3))
    mixer = QMixer(embed=8, hypernet_hidden=16, init_scale=1.0)
    p = mixer.init(jax.random.key(4), jnp.zeros(A), jnp.zeros(S))
    mix = lambda q, s: mixer.apply(p, q, s)  # noqa: E731
    q = jax.random.normal(jax.random.key(5), (T, B, A, N_ACT))
    y = jax.random.normal(jax.random.key(6), (T, B))
    loss, grad = jax.jit(jax.value_and_grad(lambda q: marl_q.td_loss(q, y, seq, mix)))(q)
    dead = ~seq.alive[..., None]
    junk = jnp.where(dead, 1e3, q)
    loss2, grad2 = jax.jit(jax.value_and_grad(lambda q: marl_q.td_loss(q, y, seq, mix)))(junk)
    np.testing.assert_allclose(loss2, loss, rtol=1e-5)
    assert bool(jnp.all(jnp.where(dead, grad, 0) == 0)) and bool(jnp.any(grad != 0))
    np.testing.assert_allclose(grad2, grad, rtol=1e-4, atol=1e-6)
    # the next values of agents dead after the step are not bootstrapped from, whatever they are
    q_on, q_tg = (jax.random.normal(k, (T, B, A, N_ACT)) for k in jax.random.split(jax.random.key(7)))
    gone = ~seq.next_alive[..., None]
    targets = jax.jit(marl_q.td_targets, static_argnums=(3, 4, 5))
    np.testing.assert_allclose(targets(q_on, jnp.where(gone, -1e3, q_tg), seq, mix, 0.9, 0.0),
                               targets(q_on, q_tg, seq, mix, 0.9, 0.0), rtol=1e-5)


def test_epsilon_greedy_takes_only_legal_actions():
    q = jax.random.normal(jax.random.key(8), (2000, N_ACT))
    mask = jax.random.bernoulli(jax.random.key(9), 0.4, (2000, N_ACT)).at[:, 3].set(True)
    act = jax.jit(marl_q.epsilon_greedy)
    explore = act(jax.random.key(10), q, mask, 1.0)
    assert bool(jnp.all(mask[jnp.arange(2000), explore]))
    # uniform over the legal ones: every legal action of a row with all five legal turns up
    all_legal = np.asarray(explore)[np.asarray(mask.all(-1))]
    assert set(all_legal.tolist()) == set(range(N_ACT))
    greedy = act(jax.random.key(11), q, mask, 0.0)
    np.testing.assert_array_equal(greedy, jnp.argmax(jnp.where(mask, q, -jnp.inf), -1))


def test_bad_configs_are_refused_naming_the_field(two_radios):  # noqa: F811
    env, params = two_radios
    with pytest.raises(ValueError, match="QMIXConfig.td_lambda must be in"):
        marl_q.QMIXConfig(td_lambda=1.5)
    with pytest.raises(ValueError, match="VDNConfig.buffer_size must be >= 1"):
        marl_q.VDNConfig(buffer_size=0)
    with pytest.raises(ValueError, match="QMIX needs a QMIXConfig"):
        marl_q.make_train(marl_q.VDNConfig(), env, params, "qmix")
    single, sparams = realax.make("realax/Spectrum-v0", scenario="constant")
    with pytest.raises(ValueError, match="not a MultiAgentEnv"):
        marl_q.make_train(marl_q.VDNConfig(), single, sparams, "vdn")


# small, fast settings for the must-learn tests: GRU agents, 40k env steps
LEARN = dict(num_envs=8, num_steps=25, total_timesteps=40_000, buffer_size=200, batch_size=16, hidden=64, lr=1e-3,
             learning_starts=1000, target_every=5, reward_scale=1.0, gamma=0.9, num_epochs=4, eps_fraction=0.5,
             updates_per_chunk=10)


def greedy_team_returns(config, mixer, env, params, seeds=2):
    trainer = marl_q.make_train(config, env, params, mixer)
    carry, _ = jit_tuned(jax.vmap(trainer.train))(jax.random.split(jax.random.key(0), seeds))
    assert isinstance(trainer.policy(jax.tree.map(lambda x: x[0], carry)), RecurrentPolicy)
    return np.asarray(jax.jit(jax.vmap(lambda c, k: evaluate(env, params, trainer.policy(c), k, 8).sum(-1).mean()))(
        carry, jax.random.split(jax.random.key(1), seeds)))


@pytest.mark.parametrize("mixer", ["qmix", "vdn"])
def test_value_decomposition_learns_two_radios(two_radios, mixer):  # noqa: F811
    """Both radios alone on the two free channels is the optimum (team return 200); a random policy scores
    -31 on average (64 episodes, never above -1). Two seeds here; measured greedy team returns per seed (jax
    0.10.2, the suite's flags): QMIX 199, 192, VDN 198, 200 (with three seeds QMIX 200, 200, 199, VDN 200, 200,
    200; other keys QMIX 195, 84, 198, 194 / 198, 200, 200, 200, VDN 200, 200, 200, 187); with lr = 0 both give
    -64, -194, -10. So every seed must beat every random episode and the seeds' mean must reach 3/4 of the
    optimum."""
    env, params = two_radios
    config = (marl_q.QMIXConfig(**LEARN, mixer_embed=16, hypernet_hidden=32) if mixer == "qmix"
              else marl_q.VDNConfig(**LEARN))
    team = greedy_team_returns(config, mixer, env, params)
    assert team.min() > 0 and team.mean() >= 0.75 * OPTIMUM, team


def test_iql_runs_on_smax_through_the_experiment_with_legal_actions():
    from realax import experiment

    env, params = realax.make("realax/SMAX-v0", scenario="3m")
    r = experiment.run("iql_marl", env, params, {"num_envs": 4, "num_steps": 16, "total_timesteps": 256, "hidden": 16,
                                                 "learning_starts": 64, "updates_per_chunk": 2, "buffer_size": 8},
                       progress=False, evaluate=False)  # the run only: test_cli evaluates a QMIX agent on SMAX
    assert np.all(np.isfinite(r.curve_returns)) and r.curve_steps[-1] == 256 and "win_rate" in r.metrics
    assert np.isfinite(r.metrics["td_loss"][0, -1])
    # every stored action was legal: the mask of the state an action was taken in is the previous step's next_mask
    seq = jax.tree.map(lambda x: np.asarray(x[0]), r.carry.buffer.data)
    legal = np.take_along_axis(seq.next_mask[:, :-1], seq.action[:, 1:, :, None], -1)[..., 0]
    assert legal[~seq.done[:, :-1]].all()
