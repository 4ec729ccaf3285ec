"""The layout's rules, read from the source: no import circles in `mnist_core` or `app` (imports
inside functions included, which is where circles hide), `mnist_core`'s packages import only the
packages their docstrings' "May import:" lines name, and that order has no circle either.

Read statically with `ast`, so a lazy `from app.tabs.draw import read` in a function counts as
much as one at the top of a file.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_files(root: Path, top: str) -> dict[str, Path]:
    """{dotted module name: file} for every .py file of package `top` under `root`."""
    files = {}
    for path in sorted((root / top).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that module `name` (at `path`) imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from x import y`: y is a module of its own when there is one, else a name in x
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a module outside: its nearest known parent
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path, tops: tuple[str, ...]) -> dict[str, set[str]]:
    """{module: the modules it imports}, over the packages `tops` under `root`."""
    files = {name: path for top in tops for name, path in module_files(root, top).items()}
    return {name: imports(name, path, set(files)) for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of `graph`: each strongly connected group of more than one module (Tarjan's
    algorithm, written out because the standard library has none and this is 20 lines)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def allowed_imports(root: Path) -> dict[str, set[str]]:
    """{package of mnist_core: the packages its docstring's "May import:" line names}."""
    allowed = {}
    for init in sorted((root / "mnist_core").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        line = re.search(r"^May import: (.*)\.$", doc, re.MULTILINE)
        assert line, f"{init.relative_to(root)}: its docstring has no 'May import: ...' line"
        allowed[f"mnist_core.{init.parent.name}"] = set(re.findall(r"mnist_core\.\w+", line.group(1)))
    return allowed


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_the_walker_finds_a_circle_hidden_in_a_function(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from .sub import b\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("def f():\n    from ..a import x\n")
    (tmp_path / "pkg" / "c.py").write_text("import pkg.a\nimport numpy\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.c"] == {"pkg.a"} and graph["pkg.a"] == {"pkg.sub.b"}
    assert circles(graph) == [["pkg.a", "pkg.sub.b"]]


@pytest.mark.parametrize("top", ["mnist_core", "app"])
def test_no_import_circles(top):
    graph = import_graph(ROOT, ("mnist_core", "app"))
    found = [group for group in circles(graph) if group[0].startswith(top)]
    assert not found, f"import circles: {found}"


def test_packages_import_only_what_their_docstrings_allow():
    allowed = allowed_imports(ROOT)
    assert len(allowed) >= 5
    assert not circles(allowed), "the packages' 'May import:' lines go round in a circle"
    for package, names in allowed.items():
        assert names <= set(allowed), f"{package} may import {names - set(allowed)}, which are no packages"
    broken = []
    for module, targets in import_graph(ROOT, ("mnist_core",)).items():
        here = package_of(module)
        if here not in allowed:  # the top: mnist_core itself, cli, __main__
            continue
        for target in targets:
            there = package_of(target)
            if there != here and there not in allowed[here]:
                broken.append(f"{module} imports {target}")
    assert not broken, "imports against the packages' order: " + "; ".join(broken)


def test_the_core_never_imports_the_app_or_streamlit():
    files = module_files(ROOT, "mnist_core")
    offenders = []
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text())):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{name} imports {m}" for m in modules if m.split(".")[0] in ("app", "streamlit")]
    assert not offenders, offenders


def test_the_public_names_still_import_from_the_top():
    """`from mnist_core import Classifier, load_mnist, preprocess, ...` as before the packages; each
    name is the object of its home module (preprocess the function, now that no module takes the name)."""
    import mnist_core
    from mnist_core import Classifier, DataUnavailable, MODEL_NAMES, load_mnist, preprocess
    from mnist_core.datasets import data
    from mnist_core.imaging import preprocess as preprocess_module
    from mnist_core.reading import classifier

    assert Classifier is classifier.Classifier and MODEL_NAMES is classifier.MODEL_NAMES
    assert load_mnist is data.load_mnist and DataUnavailable is data.DataUnavailable
    assert preprocess is preprocess_module.preprocess and callable(preprocess)
    with pytest.raises(AttributeError, match="no attribute 'classroom'"):
        mnist_core.classroom  # noqa: B018  (the modules live in their packages, not at the top)
