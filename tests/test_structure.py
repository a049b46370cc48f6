"""The package's shape: no import cycle among redact's modules (imports inside functions and under TYPE_CHECKING
counted), and no module importing another module's private (``_name``) names."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "redact"


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        parts = list(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, list[str], int]]:
    """``(module, names, line)`` for every import in ``path`` (anywhere in it) of one of ``modules``. ``from a
    import b`` where ``a.b`` is a module is an import of ``a.b``; importing a submodule is not counted as importing
    its packages' ``__init__``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name in modules]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("redact"):
                continue
            names = []
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in modules:
                    out.append((sub, [], node.lineno))
                else:
                    names.append(a.name)
            if names and target in modules:
                out.append((target, names, node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: {t for t, _n, _l in _imports(m, p, modules) if t != m} for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_imports_inside_functions():
    graph = _graph()
    assert "redact.segments" in graph["redact.pipeline"]  # imported inside scan() and render() only
    assert "redact.pipeline" in graph["redact.cli.clip"]


def test_no_import_cycle_among_the_modules():
    assert _cycles(_graph()) == []


def _private_uses(name: str, path: Path, modules: dict[str, Path]) -> list[str]:
    """``line: module._name`` for each private name of another redact module ``path`` uses: imported by name, or
    read as an attribute of a module it imported (``pii._MONTH``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = _imports(name, path, modules)
    out = [f"{line}: {target}.{n}" for target, names, line in imported for n in names
           if n.startswith("_") and not n.startswith("__") and target != name]
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname and a.name in modules})
        elif isinstance(node, ast.ImportFrom):
            for target, _names, line in imported:
                if line == node.lineno and not _names:
                    aliases.update({a.asname or a.name: target for a in node.names if target.endswith("." + a.name)})
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            out.append(f"{node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return out


def test_the_private_name_finder_sees_imports_and_attributes(tmp_path):
    pkg = tmp_path / "redact"
    (pkg / "sub").mkdir(parents=True)
    for f in ("__init__.py", "pii.py", "sub/__init__.py", "sub/a.py"):
        (pkg / f).write_text("")
    user = pkg / "sub" / "b.py"
    user.write_text("from .. import pii\nfrom .a import _x, y\n\ndef f():\n    return pii._MONTH, pii.MONTH\n")
    modules = {"redact": pkg, "redact.pii": pkg / "pii.py", "redact.sub": pkg / "sub", "redact.sub.a": pkg / "sub/a.py",
               "redact.sub.b": user}
    assert _private_uses("redact.sub.b", user, modules) == ["2: redact.sub.a._x", "5: redact.pii._MONTH"]


def test_no_module_uses_another_modules_private_names():
    modules = _modules()
    found = [f"{p.relative_to(PACKAGE.parent)}:{use}" for m, p in modules.items() for use in _private_uses(m, p, modules)]
    assert found == []


def test_every_flag_a_message_names_exists():
    """Error messages and help name only the command line's own flags (one said ``--device cpu``, which never
    existed: the flag is ``--provider``). Docstrings are left out (they also cite the benchmark scripts' flags), and
    so are CSS custom properties (``--c:``)."""
    import re

    import click

    from redact.cli import cli

    flags = {"--help"}

    def add(cmd: click.Command) -> None:
        flags.update(o for p in cmd.params for o in [*p.opts, *p.secondary_opts])
        for sub in getattr(cmd, "commands", {}).values():
            add(sub)

    add(cli)
    unknown = []
    for p in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # a string as a statement
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
                unknown += [f"{p.relative_to(PACKAGE.parent)}:{n.lineno}: {f}"
                            for f in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w:-])", n.value) if f not in flags]
    assert unknown == []
