"""Pure, vectorised spectrum dynamics: entity behaviour, on/off duty cycles and occupancy frames.

Entity rules follow RFRL Gym's entity classes (``vtnsiSDD/rfrl-gym`` ``rfrl_gym/entities``):
an entity acts only for ``start <= t <= stop``; its on/off flag starts on iff ``onoff[0] == 1`` and
``onoff[1] != 0`` and toggles after ``onoff[1]`` steps on / ``onoff[2]`` steps off (0 = never toggle);
a fixed hopper advances one entry of its list at the first step of each on-period; the agile emitter and
the reactive jammer look at the step t-1 occupancy (the radios' transmissions included), so they react with
a one-step lag. The follow jammer (ours) jams the channel a radio used at t-1.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from realax.core import MAX_STEPS, discrete_action
from realax.envs.sampling import choice, uniforms
from realax.envs.spectrum import schema as sc


@struct.dataclass
class EntityParams:
    """Entity table, padded to a fixed count E; shapes are set by the scenario, values may be vmapped."""

    kind: jax.Array  # int32 [E]; scenario.NONE pads
    seq: jax.Array  # int32 [E, L]; hop order (entry 0 is a constant's channel)
    seq_len: jax.Array  # int32 [E]
    cum_weights: jax.Array  # float32 [E, C]; random hopper's cumulative channel probabilities
    onoff: jax.Array  # int32 [E, 3]
    start: jax.Array  # int32 [E]
    stop: jax.Array  # int32 [E]
    percent_on: jax.Array  # float32 [E]
    avoid_repeats: jax.Array  # bool [E]


@struct.dataclass
class EntityState:
    chan: jax.Array  # int32 [E]; channel used now, or -1 when silent
    memory: jax.Array  # int32 [E]; agile: its current channel; jammer: its last target channel
    hop: jax.Array  # int32 [E]; fixed hopper's position in its list
    count: jax.Array  # int32 [E]; steps since the last on/off toggle
    on: jax.Array  # bool [E]; duty-cycle flag


def entity_params(entities: tuple[sc.Entity, ...], num_channels: int, num_slots: int | None = None,
                  seq_len: int | None = None) -> EntityParams:
    """Arrays for a list of entities, padded to ``num_slots`` entities and hop lists of ``seq_len``."""
    E = max(num_slots or len(entities), 1)
    L = max(seq_len or max([len(e.channels) for e in entities], default=1), 1)
    C = num_channels
    kind = np.zeros(E, np.int32)
    seq = np.zeros((E, L), np.int32)
    slen = np.ones(E, np.int32)
    cw = np.ones((E, C), np.float32)
    onoff = np.zeros((E, 3), np.int32)
    start = np.zeros(E, np.int32)
    stop = np.zeros(E, np.int32)
    pon = np.ones(E, np.float32)
    avoid = np.ones(E, bool)
    for i, e in enumerate(entities):
        kind[i] = e.kind
        seq[i, : len(e.channels)] = e.channels
        slen[i] = len(e.channels)
        w = np.zeros(C, np.float64)
        probs = e.weights or (1.0 / len(e.channels),) * len(e.channels)
        np.add.at(w, list(e.channels), probs)
        cw[i] = np.cumsum(w / w.sum())
        cw[i, -1] = 1.0 + 1e-6  # a uniform draw in [0, 1) never falls past the last channel
        onoff[i], start[i], stop[i] = e.onoff, e.start, min(e.stop, MAX_STEPS)
        pon[i], avoid[i] = e.percent_on, e.avoid_repeats
    return EntityParams(*(jnp.asarray(a) for a in (kind, seq, slen, cw, onoff, start, stop, pon, avoid)))


def _take(table: jax.Array, idx: jax.Array) -> jax.Array:
    """``table[i, idx[i]]`` as a one-hot reduction (gathers are slow once vmapped on CPU)."""
    return jnp.sum(jnp.where(jnp.arange(table.shape[-1]) == idx[:, None], table, 0), axis=-1)


def init_entities(p: EntityParams, u: jax.Array) -> EntityState:
    """Episode start; ``u [E]`` uniforms choose the agile emitters' first channel."""
    on = ((p.onoff[:, 0] == 1) & (p.onoff[:, 1] != 0)) & (p.kind != sc.NONE)
    first = _take(p.seq, jnp.floor(u * p.seq_len).astype(jnp.int32))
    neg = jnp.full_like(p.kind, -1)
    return EntityState(chan=neg, memory=jnp.where(p.kind == sc.AGILE, first, -1), hop=neg,
                       count=jnp.zeros_like(p.kind), on=on)


def step_entities(p: EntityParams, s: EntityState, t: jax.Array, prev_frame: jax.Array,
                  prev_tx: jax.Array, u: jax.Array) -> EntityState:
    """Every entity's channel at step ``t``.

    ``prev_frame [C]``: entity occupancy codes at t-1 (0 free, i+1 entity i, E+1 collision);
    ``prev_tx [C]``: channels the radios used at t-1; ``u [E, 2]``: uniforms.
    """
    E, C = p.cum_weights.shape
    own = jnp.arange(1, E + 1, dtype=prev_frame.dtype)
    active = (t >= p.start) & (t <= p.stop) & (p.kind != sc.NONE)
    on = s.on & active
    # busy at t-1 for entity i: anything but itself was there (RFRL's agile and jammer view)
    busy = ((prev_frame[None, :] != 0) & (prev_frame[None, :] != own[:, None])) | prev_tx[None, :]
    n_busy = jnp.sum(busy, axis=-1)
    chans = jnp.arange(C)

    k = p.kind
    hop = jnp.where(on & (s.count == 0), (s.hop + 1) % p.seq_len, s.hop)
    hop_ch = _take(p.seq, hop)
    rand_ch = jnp.sum(p.cum_weights <= u[:, :1], axis=-1)
    const_ch = p.seq[:, 0]
    cur_busy = _take(busy, s.memory)

    # one uniform draw among a kind-specific set of channels: agile -> free ones, reactive jammer -> busy
    # ones (other than its last, if it avoids repeats and can), follow jammer -> the radios' channels
    fresh = busy & (chans[None, :] != s.memory[:, None])
    prefer = jnp.where((p.avoid_repeats & jnp.any(fresh, axis=-1))[:, None], fresh, busy)
    cand = jnp.where((k == sc.AGILE)[:, None], ~busy,
                     jnp.where((k == sc.REACTIVE_JAMMER)[:, None], prefer, prev_tx[None, :]))
    drawn = choice(cand, u[:, 0])
    agile_ch = jnp.where(cur_busy, drawn, s.memory)

    ch = jnp.select(
        [k == sc.CONSTANT, k == sc.FIXED_HOP, k == sc.RANDOM_HOP, k == sc.STOCH_CONSTANT, k == sc.AGILE],
        [const_ch, hop_ch, rand_ch, const_ch, agile_ch], drawn)
    ok = jnp.select(
        [k == sc.STOCH_CONSTANT, k == sc.AGILE, k == sc.REACTIVE_JAMMER, k == sc.FOLLOW_JAMMER],
        [u[:, 1] < p.percent_on, n_busy < C, (n_busy > 0) & (t > 0), jnp.any(prev_tx)], True)
    emit = on & ok
    chan = jnp.where(emit, ch, -1)
    memory = jnp.where(emit & ((k == sc.AGILE) | (k == sc.REACTIVE_JAMMER)), ch, s.memory)

    # duty cycle (RFRL Entity.__cycle_onoff), only while inside the start/stop window
    n_on, n_off = p.onoff[:, 1], p.onoff[:, 2]
    count = s.count + 1
    to_off = s.on & (count == n_on)
    to_on = ~s.on & (count == n_off)
    new_on = jnp.where(to_off, n_off == 0, jnp.where(to_on, n_on != 0, s.on))
    new_count = jnp.where(to_off | to_on, 0, count)
    return EntityState(chan=chan, memory=memory, hop=jnp.where(active, hop, s.hop),
                       count=jnp.where(active, new_count, s.count), on=jnp.where(active, new_on, s.on))


def occupancy(chan: jax.Array, num_channels: int, collision_code: int, offset: int = 0) -> tuple[jax.Array, jax.Array]:
    """``(codes [C] int8, counts [C] int32)``: who is on each channel (``offset + i + 1``) or ``collision_code``."""
    hit = chan[:, None] == jnp.arange(num_channels)[None, :]
    counts = jnp.sum(hit, axis=0, dtype=jnp.int32)
    ids = jnp.sum(hit * jnp.arange(offset + 1, offset + 1 + chan.shape[0])[:, None], axis=0)
    return jnp.where(counts > 1, collision_code, ids).astype(jnp.int8), counts


def start(p: EntityParams, key: jax.Array, num_channels: int) -> tuple[EntityState, jax.Array, jax.Array]:
    """Entities at step 0 (nothing was on the air before): ``(state, codes [C], counts [C])``."""
    E = p.kind.shape[0]
    u = uniforms(key, (E, 3))
    s = step_entities(p, init_entities(p, u[:, 2]), jnp.int32(0), jnp.zeros(num_channels, jnp.int8),
                      jnp.zeros(num_channels, bool), u[:, :2])
    return (s, *occupancy(s.chan, num_channels, E + 1))


def advance(p: EntityParams, s: EntityState, key: jax.Array, t: jax.Array, prev_frame: jax.Array,
            prev_tx: jax.Array) -> tuple[EntityState, jax.Array, jax.Array]:
    """Entities at step ``t``: ``(state, codes [C], counts [C])``."""
    E, C = p.cum_weights.shape
    s = step_entities(p, s, t, prev_frame, prev_tx, uniforms(key, (E, 2)))
    return (s, *occupancy(s.chan, C, E + 1))


def radio_action(action: jax.Array, num_channels: int, shape: tuple[int, ...] = ()) -> tuple[jax.Array, jax.Array]:
    """``(action, invalid)``: anything but a whole number in ``0..C`` (fractions, NaN, infinity, out of range)
    becomes 0 (silent) and is flagged -- the shared rule of ``realax.core.discrete_action``."""
    return discrete_action(action, num_channels + 1, 0, shape)


def switch_bonus(action: jax.Array, last: jax.Array, penalty: jax.Array | float) -> jax.Array:
    """The RFRL paper's dampening: +penalty for transmitting again on the last channel, -penalty for a
    switch, 0 when this step or the last one was silent (``action``/``last`` are channel + 1)."""
    last = last.astype(jnp.int32)
    return jnp.where((action > 0) & (last > 0), jnp.where(action == last, 1.0, -1.0) * penalty, 0.0)


def radio_turn(params: Any, ent: Any, frame: jax.Array, tx: jax.Array, t: jax.Array, action: jax.Array,
               key: jax.Array, num_channels: int) -> tuple[jax.Array, jax.Array, jax.Array, Any, jax.Array, jax.Array]:
    """One step of a single radio against the scenario's entities, shared by ``Spectrum`` and ``SpectrumIQ``:
    ``(a, invalid, t, ent, frame, reward)`` with ``a`` the channel + 1 (0 silent), ``t`` the next step, the
    entities moved and their occupancy ``frame``, and the reward on the true occupancy (+1 for a free channel,
    or for the target's channel when jamming, -1 otherwise, 0 when silent, plus ``switch_bonus``); ``tx`` is
    the radio's channel history (its last entry the previous step)."""
    a, invalid = radio_action(action, num_channels)
    t = t + 1
    prev_tx = jnp.arange(1, num_channels + 1) == tx[-1]
    ent, frame, _ = advance(params.entities, ent, key, t, frame, prev_tx)
    cell = frame[jnp.maximum(a - 1, 0)]
    hit = jnp.where(params.reward_jam, cell == params.target, cell == 0)
    reward = jnp.where(a == 0, 0.0, jnp.where(hit, 1.0, -1.0)) + switch_bonus(a, tx[-1], params.switch_penalty)
    return a, invalid, t, ent, frame, reward
