"""What the ``realax`` command's sub-commands share: environment options and turning bad input into a one-line
message with exit code 2 (never a traceback)."""

from __future__ import annotations

import functools
from typing import Any, Callable

import typer

from realax.errors import RealaxError

_ENV_OPTS = "Environment"
ScenarioOpt = typer.Option(None, "--scenario", help="Built-in scenario name or path to a scenario file.",
                           rich_help_panel=_ENV_OPTS)
EnvArgOpt = typer.Option(None, "--env-arg", "-e", help="Any constructor argument, KEY=VALUE (repeatable), "
                         "e.g. -e history=1; typed from the constructor (booleans: true/false).",
                         rich_help_panel=_ENV_OPTS)
CoordinatorOpt = typer.Option(None, "--coordinator", help="Several processes (one per machine or per GPU): "
                              "process 0's HOST:PORT, the same for every process (jax.distributed.initialize).")
NumProcessesOpt = typer.Option(1, "--num-processes", min=1, help="Processes in the run (with --coordinator).")
ProcessIdOpt = typer.Option(0, "--process-id", min=0, help="This process's index, 0 to --num-processes - 1; "
                            "process 0 writes the run folder.")
DevicesOpt = typer.Option(None, "--devices", min=1, help="Devices to spread the environment batch over (default: "
                          "every device JAX sees); on CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N "
                          "makes N devices of the cores.")


#: click's ``ClickException`` (typer re-exports click's errors; newer typer versions vendor click)
_ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class Refused(_ClickException):
    """Bad input, reported as ``Error: <message>`` with exit code 2 (click's code for usage errors)."""

    exit_code = 2


def refuse(message: str) -> Refused:
    return Refused(message)


def handles_bad_input(fn: Callable) -> Callable:
    """Run a command so that a ``RealaxError`` (or a refused overwrite) ends it with its message and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RealaxError, FileExistsError) as e:
            raise Refused(str(e)) from None

    return wrapper


def env_kwargs(env_id: str, scenario: str | None, env_arg: list[str] | None) -> dict:
    """``--scenario`` and ``-e KEY=VALUE`` as typed constructor options of ``env_id`` (``realax.options``)."""
    import realax
    from realax import options

    raw: dict[str, Any] = options.split_pairs(env_arg, "--env-arg")
    if scenario is not None:
        if "scenario" in raw:
            raise RealaxError("give the scenario once: --scenario or -e scenario=..., not both")
        raw["scenario"] = scenario
    hints, _ = options.env_hints(realax.spec(env_id).load())
    return options.coerce_all(raw, hints, env_id)
