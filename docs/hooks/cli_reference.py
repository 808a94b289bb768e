"""MkDocs hook: the CLI reference page, generated from the ``realax`` command itself at build time.

``docs/cli.md`` holds the marker ``<!-- realax-cli-reference -->``; this hook replaces it with one section per
command and subcommand (usage, help, and a table of arguments and options), read from the click command that
``typer.main.get_command(realax.cli.app)`` builds. Nothing is copied by hand, so a new option (``--resume``, ...)
appears in the docs at the next build.

Typer 0.2x ships its own copy of click (``typer._click``), which ``mkdocs-click`` does not recognise (it would
list the commands without their options), so the parameters are read here by attribute, the same way for
typer's classes and for click's.

Run as a script to print the generated markdown: ``python docs/hooks/cli_reference.py``.
"""

from __future__ import annotations

import re
from typing import Any

MARKER = "<!-- realax-cli-reference -->"
PAGE = "cli.md"
PROG = "realax"


def root_command():
    """The click command of the ``realax`` command line (a group with subcommands)."""
    import typer

    from realax import cli

    return typer.main.get_command(cli.app)


def walk(cmd, path: tuple[str, ...] = (PROG,)):
    """``(path, command)`` for ``cmd`` and every visible subcommand below it, depth first, sorted by name."""
    yield path, cmd
    subs = getattr(cmd, "commands", None) or {}
    for name in sorted(subs):
        sub = subs[name]
        if not getattr(sub, "hidden", False):
            yield from walk(sub, (*path, name))


def _inline(text: str) -> str:
    """Help text as one markdown line for a table cell: code spans kept, markup characters escaped elsewhere."""
    text = " ".join(str(text or "").split())
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a code span
            out.append(part.replace("|", "&#124;"))
        else:
            part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "&#124;")
            out.append(re.sub(r"([\\*_\[\]])", r"\\\1", part))
    return "".join(out)


def _is_option(param) -> bool:
    return any(str(o).startswith("-") for o in getattr(param, "opts", []))


def _type_name(param) -> str:
    if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
        return "flag"
    ptype = getattr(param, "type", None)
    if ptype is not None:
        choices = getattr(ptype, "choices", None)
        return " \\| ".join(map(str, choices)) if choices else str(getattr(ptype, "name", ptype))
    desc = getattr(param, "type_descriptor", None)
    ann = getattr(desc, "annotation", None)
    if ann is None:
        return ""
    if getattr(ann, "__origin__", None) is not None:  # list[str], ...
        return str(ann).replace("typing.", "")
    return getattr(ann, "__name__", None) or str(ann).replace("typing.", "")


def _range(param) -> str:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is None and high is None:
        return ""
    if low is not None and high is not None:
        return f"{low}..{high}"
    return f">= {low}" if low is not None else f"<= {high}"


def _default(param) -> str:
    if getattr(param, "required", False):
        return "required"
    default = getattr(param, "default", None)
    if default is None or default == () or default == []:
        return ""
    if getattr(param, "secondary_opts", None) and isinstance(default, bool):
        opts = param.opts if default else param.secondary_opts
        return f"`{opts[0]}`"
    return f"`{default}`"


def _usage(path: tuple[str, ...], cmd) -> str:
    args = [p for p in getattr(cmd, "params", []) if not _is_option(p) and not getattr(p, "hidden", False)]
    pieces = [*path, "[OPTIONS]"]
    for a in args:
        name = (getattr(a, "metavar", None) or a.name).upper()
        if getattr(a, "multiple", False) or getattr(a, "nargs", 1) == -1:
            name += "..."
        pieces.append(name if getattr(a, "required", False) else f"[{name}]")
    if getattr(cmd, "commands", None):
        pieces += ["COMMAND", "[ARGS]..."]
    return " ".join(pieces)


def _param_rows(cmd) -> tuple[list[str], list[str]]:
    arguments, options = [], []
    for p in getattr(cmd, "params", []):
        if getattr(p, "hidden", False):
            continue
        help_text = _inline(getattr(p, "help", "") or "")
        kind = _type_name(p)
        rng = _range(p)
        if rng:
            kind = f"{kind} ({rng})" if kind else rng
        if _is_option(p):
            names = ", ".join(f"`{o}`" for o in [*p.opts, *getattr(p, "secondary_opts", [])])
            if getattr(p, "multiple", False) and "repeatable" not in help_text:
                help_text += " (repeatable)"
            options.append(f"| {names} | {kind} | {_default(p)} | {help_text} |")
        else:
            arguments.append(f"| `{p.name.upper()}` | {kind} | {_default(p)} | {help_text} |")
    options.append("| `--help` | flag |  | Show the command's help and exit. |")
    return arguments, options


def command_markdown(path: tuple[str, ...], cmd) -> list[str]:
    """One command's section: heading, help, usage, argument and option tables, subcommand list."""
    depth = min(len(path) + 1, 6)
    lines = [f"{'#' * depth} `{' '.join(path)}`", ""]
    help_text = str(getattr(cmd, "help", "") or "").strip()
    if help_text:
        lines += [re.sub(r"\s*\n\s*", " ", para) for para in re.split(r"\n\s*\n", help_text)]
        lines.append("")
    lines += ["```text", _usage(path, cmd), "```", ""]
    arguments, options = _param_rows(cmd)
    head = ["| name | type | default | description |", "|---|---|---|---|"]
    if arguments:
        lines += ["**Arguments**", "", *head, *arguments, ""]
    lines += ["**Options**", "", *head, *options, ""]
    subs = getattr(cmd, "commands", None) or {}
    if subs:
        lines += ["**Commands**", ""]
        for name in sorted(subs):
            sub = subs[name]
            short = str(getattr(sub, "short_help", None) or getattr(sub, "help", "") or "").strip()
            short = short.split("\n\n")[0]
            lines.append(f"- [`{name}`](#{_anchor((*path, name))}): {_inline(short)}")
        lines.append("")
    return lines


def _anchor(path: tuple[str, ...]) -> str:
    """The id that the toc extension gives a heading `` `realax data generate` ``."""
    return "-".join(path)


def cli_markdown() -> str:
    """The whole generated reference (markdown)."""
    lines: list[str] = []
    for path, cmd in walk(root_command()):
        lines += command_markdown(path, cmd)
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/{PAGE} lost the marker {MARKER!r} where the generated CLI reference goes")
    return markdown.replace(MARKER, cli_markdown())


if __name__ == "__main__":
    print(cli_markdown())
