"""The README's table of the public API (``analysis.__all__``), generated from the code.

    python docs/api_table.py           print the table
    python docs/api_table.py --write   replace the table between the markers in README.md

``tests/test_api_table.py`` checks that the README's table is this one and lists every
name of ``analysis.__all__``. Input: the required parameters of a function (with their
annotation); result: the return annotation (or, for a result class, its base and fields).
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from pathlib import Path

START, END = "<!-- api-table:start -->", "<!-- api-table:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"


def _input(obj) -> str:
    params = []
    for p in inspect.signature(obj).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        params.append(f"{p.name}: {p.annotation}" if p.annotation is not p.empty else p.name)
    return ", ".join(params)


def _row(name: str, obj) -> tuple[str, str, str, str]:
    module = getattr(obj, "__module__", "") or ""
    where = module.rsplit(".", 1)[-1] if module.startswith("analysis.") else ""
    if inspect.isclass(obj):
        bases = [b.__name__ for b in obj.__mro__[1:] if b is not object and b.__module__.startswith("analysis.")]
        kind = f"result class ({bases[0]})" if bases else "class"
        if dataclasses.is_dataclass(obj):
            names = [f.name for f in dataclasses.fields(obj)]
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            return name, where, kind, shown
        return name, where, kind, ""
    if callable(obj):
        ret = inspect.signature(obj).return_annotation
        return name, where, _input(obj), "see the docstring" if ret is inspect.Signature.empty else str(ret)
    return name, "", "constant", type(obj).__name__


def table() -> str:
    import analysis

    lines = ["| name | module | input (required) | result |", "|---|---|---|---|"]
    for name in analysis.__all__:
        cells = _row(name, getattr(analysis, name))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in (f"`{cells[0]}`", *cells[1:])) + " |")
    return "\n".join(lines)


def readme_table(text: str) -> str:
    """The table between the markers of ``text``."""
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def main(argv: list[str]) -> int:
    new = table()
    if "--write" in argv:
        text = README.read_text(encoding="utf-8")
        head, rest = text.split(START, 1)
        README.write_text(head + START + "\n" + new + "\n" + END + rest.split(END, 1)[1], encoding="utf-8")
    else:
        print(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
