"""The folder of one training run while it trains and after: ``meta.json`` (every option, the seed, the
status), ``checkpoint.msgpack`` (the whole vmapped training state after the last finished chunk, by name:
``realax.agents.checkpoint``), ``metrics.jsonl`` (one line per chunk), TensorBoard events under ``tb/``
(and Weights & Biases with ``wandb=True``), then ``agent.msgpack`` (the best seed), ``metrics.json`` and
``curve.png`` when it finishes. An existing folder is never overwritten silently (``choose``).
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from realax import files
from realax.agents import checkpoint
from realax.agents.checkpoint import read_meta
from realax.errors import RealaxError

CHECKPOINT = "checkpoint.msgpack"
META = "meta.json"
#: what ``meta.json``'s ``status`` says
RUNNING, INTERRUPTED, COMPLETE, DIVERGED = "running", "interrupted", "complete", "diverged"


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run (its ``meta.json`` names an algorithm and an env)."""
    try:
        meta = json.loads((Path(path) / META).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "algo" in meta and "env_id" in meta


def choose(out: Path | None, default: Path, overwrite: bool = False) -> tuple[Path, str | None]:
    """``(folder, note)``: where a run will be written. An explicit ``out`` that exists is refused unless
    ``overwrite`` (and then only a run folder, never the working directory or above, is replaced); without
    ``out``, ``default`` or, when that exists, the first free ``default-2``, ``default-3``, ... (the note says so)."""
    if out is not None:
        out = Path(out)
        if out.exists() or out.is_symlink():
            if not overwrite:
                raise RealaxError(f"{out} exists; pass --overwrite to replace it (only a realax run folder is "
                                  f"replaced), or choose another --out")
            files.check_replaceable(out, is_run_folder, "realax run")
        return out, None
    default = Path(default)
    if not default.exists():
        return default, None
    n = 2
    while (free := default.with_name(f"{default.name}-{n}")).exists():
        n += 1
    return free, f"note: {default} exists; saving this run to {free}"


class _Logs:
    """``metrics.jsonl``, TensorBoard (``tensorboardX``, the ``[cli]`` extra) and optionally W&B."""

    def __init__(self, folder: Path, meta: dict, wandb: bool):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise RealaxError("TensorBoard logs need tensorboardX: pip install 'realax[cli]'") from None
        self.tb = SummaryWriter(str(folder / "tb"))
        self.jsonl = folder / "metrics.jsonl"
        self.wandb = None
        if wandb:
            try:
                import wandb as wb
            except ImportError:
                raise RealaxError("--wandb needs Weights & Biases: pip install 'realax[wandb]'") from None
            self.wandb = wb.init(project="realax", name=folder.name, dir=str(folder), config=meta,
                                 id=meta.get("wandb_id"), resume="allow")
            meta["wandb_id"] = self.wandb.id

    def chunk(self, line: dict, series: dict[str, np.ndarray], steps: np.ndarray) -> None:
        """One chunk: ``line`` to ``metrics.jsonl``; each ``series[k]`` (one value per update, mean over seeds)
        at ``steps`` to TensorBoard (and W&B)."""
        with open(self.jsonl, "a") as f:
            f.write(files.dumps(line) + "\n")
        for k, values in series.items():
            for s, v in zip(steps, values, strict=True):
                if math.isfinite(v):
                    self.tb.add_scalar(f"train/{k}", float(v), int(s))
        self.tb.add_scalar("perf/steps_per_second", line["steps_per_second"], line["step"])
        self.tb.flush()
        if self.wandb is not None:
            self.wandb.log({f"train/{k}": line[k] for k in series if k in line} |
                           {"perf/steps_per_second": line["steps_per_second"]}, step=line["step"])

    def trim(self, done: int) -> None:
        """Drop the ``metrics.jsonl`` lines of chunks after ``done`` (logged but not checkpointed: a run that
        diverged, or one killed between sparse checkpoints), so a resumed run does not log them twice."""
        if not self.jsonl.is_file():
            return
        lines = self.jsonl.read_text().splitlines()
        kept = [line for line in lines if json.loads(line).get("chunk", 0) <= done]
        if len(kept) < len(lines):
            files.write_atomic(self.jsonl, lambda p: Path(p).write_text("".join(f"{line}\n" for line in kept)))

    def scalars(self, values: dict[str, float], step: int) -> None:
        for k, v in values.items():
            if v is not None and math.isfinite(v):
                self.tb.add_scalar(k, v, step)
        self.tb.flush()
        if self.wandb is not None:
            self.wandb.log(values, step=step)

    def close(self) -> None:
        self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


def _seed_mean(v: np.ndarray) -> np.ndarray:
    """Mean over the seed axis of the finite values (NaN where no seed has one, e.g. before a first episode)."""
    v = np.asarray(v, np.float64).reshape(v.shape[0], -1)
    ok = np.isfinite(v)
    n = ok.sum(0)
    return np.where(n > 0, np.where(ok, v, 0.0).sum(0) / np.maximum(n, 1), np.nan)


class RunFolder:
    """A run's folder. ``create`` starts one (``meta.json`` with ``status: running``); ``resume`` opens an
    interrupted one; the runner calls ``chunk`` after every chunk, then ``finish`` or ``interrupted``."""

    def __init__(self, path: Path, meta: dict, wandb: bool = False):
        self.path, self.meta = Path(path), meta
        self.logs = _Logs(self.path, meta, wandb)
        self.write_meta()

    @classmethod
    def create(cls, path: Path | str, meta: dict, *, overwrite: bool = False, wandb: bool = False) -> "RunFolder":
        path = Path(path)
        if path.exists() or path.is_symlink():
            if not overwrite:
                raise RealaxError(f"{path} exists; pass --overwrite to replace it")
            files.check_replaceable(path, is_run_folder, "realax run")
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return cls(path, {**meta, "status": RUNNING, "realax_version": _version()}, wandb)

    @classmethod
    def resume(cls, path: Path | str, *, wandb: bool = False) -> "RunFolder":
        meta = read_meta(path)
        if meta.get("status") == COMPLETE:
            raise RealaxError(f"{path} is a finished run; nothing to resume")
        if not (Path(path) / CHECKPOINT).is_file():
            raise RealaxError(f"{path} has no {CHECKPOINT}: the run stopped before its first chunk finished; "
                              f"start it again")
        meta.pop("error", None)  # a diverged run's message
        return cls(Path(path), {**meta, "status": RUNNING}, wandb or bool(meta.get("wandb_id")))

    def write_meta(self) -> None:
        text = files.dumps(self.meta, indent=2, default=str)  # paths as text
        files.write_atomic(self.path / META, lambda p: Path(p).write_text(text))

    # -- while training ---------------------------------------------------------------------------------
    def chunk(self, done: int, total: int, metrics: dict[str, np.ndarray], steps: np.ndarray, wall: float,
              chunk_seconds: float, steps_per_chunk: int) -> None:
        """Log one finished chunk: ``metrics[k]`` is ``[seeds, updates]`` of this chunk, ``steps`` its x axis."""
        series = {k: _seed_mean(v) for k, v in metrics.items() if k != "env_steps"}
        line = {"chunk": done, "chunks": total, "step": int(steps[-1]), "wall_seconds": round(wall, 3),
                "steps_per_second": steps_per_chunk / max(chunk_seconds, 1e-9),
                **{k: float(v[-1]) for k, v in series.items()}}
        self.logs.chunk(line, series, steps)

    def save_checkpoint(self, carry: Any, metrics: dict[str, np.ndarray], done: int, wall: float) -> None:
        checkpoint.save(self.path / CHECKPOINT, {"carry": carry, "metrics": metrics},
                        {"chunk": done, "wall_seconds": wall})

    def load_checkpoint(self, template: Any) -> tuple[Any, dict[str, np.ndarray], int, float]:
        """``(carry, metrics so far, chunks done, wall seconds so far)``."""
        state, extra = checkpoint.read(self.path / CHECKPOINT)
        carry = checkpoint.restore(template, state.get("carry", {}), str(self.path / CHECKPOINT))
        self.logs.trim(int(extra["chunk"]))
        return carry, {k: np.asarray(v) for k, v in state.get("metrics", {}).items()}, int(extra["chunk"]), \
            float(extra["wall_seconds"])

    # -- at the end -------------------------------------------------------------------------------------
    def interrupted(self, done: int) -> None:
        self.meta.update(status=INTERRUPTED, chunks_done=done)
        self.write_meta()
        self.logs.close()

    def diverged(self, saved: int, message: str) -> None:
        """A loss turned non-finite: the checkpoint (if any) is the one of chunk ``saved``, from before."""
        self.meta.update(status=DIVERGED, chunks_done=saved, error=message)
        self.write_meta()
        self.logs.close()

    def finish(self, best_carry: Any, summary: dict, seed_index: int, plot) -> None:
        checkpoint.save(self.path / checkpoint.AGENT_FILE, best_carry)
        files.write_atomic(self.path / "metrics.json", lambda p: Path(p).write_text(files.dumps(summary, indent=2)))
        if plot is not None:
            plot(self.path / "curve.png")
        self.logs.scalars({f"eval/{k}": v for k, v in summary.items() if isinstance(v, (int, float))},
                          summary.get("step", 0))
        self.meta.update(status=COMPLETE, seed_index=seed_index, finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
        self.meta.pop("chunks_done", None)
        self.write_meta()
        self.logs.close()


def _version() -> str:
    import realax

    return realax.__version__
