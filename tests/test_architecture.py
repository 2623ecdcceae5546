"""The layout is the architecture: only flows/ may import Prefect, packages depend downward only
(skeleton <- data <- features <- scoring <- gcn <- app <- flows, imports inside functions
included), and no module imports itself back through others, counting the package ``__init__``
modules an import runs on its way (importing ``flows.cli.ensemble`` runs ``flows/cli/__init__``)."""

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("skeleton", "data", "features", "scoring", "gcn", "app", "flows")  # bottom to top


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(name: str, path: Path, node: ast.AST, modules: set[str]) -> list[str]:
    """The project modules one import statement names (``posegraph.x.y`` or relative)."""
    if isinstance(node, ast.Import):
        return [alias.name.removeprefix("posegraph.") for alias in node.names if alias.name.startswith("posegraph.")]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        if not (node.module or "").startswith("posegraph"):
            return []
        base = (node.module or "").removeprefix("posegraph").removeprefix(".")
    else:
        parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}" if base else alias.name
        found.append(candidate if candidate in modules else base)
    return found


def import_graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its file (functions included)."""
    paths = {_module_name(root, path): path for package in packages for path in (root / package).rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            for target in _targets(name, path, node, set(paths)):
                while target and target not in paths:  # a name inside a module: the module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
                    edges |= _packages_run_on_the_way(name, target, paths)
        graph[name] = edges
    return graph


def _packages_run_on_the_way(name: str, target: str, paths) -> set[str]:
    """The package ``__init__`` modules importing ``target`` runs, but for ``name``'s own packages
    (already running when ``name`` is imported: a sibling import inside a package is no loop)."""
    parts, found = target.split("."), set()
    for end in range(1, len(parts)):
        package = ".".join(parts[:end])
        if package in paths and not (name == package or name.startswith(package + ".")):
            found.add(package)
    return found


def upward_imports(graph: dict[str, set[str]], packages=PACKAGES) -> list[str]:
    rank = {package: position for position, package in enumerate(packages)}
    return sorted(f"{source} -> {target}" for source, targets in graph.items() for target in targets
                  if rank[target.split(".")[0]] > rank[source.split(".")[0]])


def import_loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, loops, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    loops.append(sorted(group))
    return loops


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "flows"])
def test_only_flows_imports_prefect(package):
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / package).rglob("*.py")
                 if imported_modules(path) & {"prefect", "prefect_dask"}]
    assert offenders == []


def test_packages_depend_downward_only():
    assert upward_imports(import_graph(ROOT)) == []


def test_no_module_imports_itself_back():
    assert import_loops(import_graph(ROOT)) == []


def test_the_checks_find_a_loop_and_an_upward_import(tmp_path):
    # the two checks above must be able to fail: a loop inside one package (one side hidden in a
    # function, as gcn/families <-> gcn/training was) and storage reaching up to the features
    (tmp_path / "data").mkdir()
    (tmp_path / "features").mkdir()
    (tmp_path / "data" / "__init__.py").write_text("")
    (tmp_path / "data" / "a.py").write_text("from .b import thing\n")
    (tmp_path / "data" / "b.py").write_text("def thing():\n    from posegraph.data.a import x\n")
    (tmp_path / "data" / "query.py").write_text("def names():\n    from ..features import NAMES\n")
    (tmp_path / "features" / "__init__.py").write_text("NAMES = ()\n")
    # and a loop through a package's __init__: data/cli/__init__ -> data.demo -> data.cli.tool
    (tmp_path / "data" / "cli").mkdir()
    (tmp_path / "data" / "cli" / "__init__.py").write_text("def run():\n    from posegraph.data.demo import go\n")
    (tmp_path / "data" / "cli" / "tool.py").write_text("from ..a import thing\n")
    (tmp_path / "data" / "demo.py").write_text("from posegraph.data.cli.tool import x\n")
    graph = import_graph(tmp_path, ("data", "features"))
    assert import_loops(graph) == [["data.a", "data.b"], ["data.cli", "data.demo"]]
    assert upward_imports(graph, ("data", "features")) == ["data.query -> features"]


def test_top_level_is_the_users_layout():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell tracked files from generated ones")
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    top_level = {line.split("/", 1)[0] for line in listing.stdout.splitlines()}
    allowed = set(PACKAGES) | {"tests", "pyproject.toml", "README.md", "Makefile", "benchmarks",
                               "configs", ".ci", ".gitignore",
                               "docs"}  # the README's pictures (screenshots the browser tests make)
    assert not [line for line in listing.stdout.splitlines()
                if line.startswith("docs/") and not line.endswith(".png")], "docs/ holds the README's pictures only"
    assert top_level <= allowed, top_level - allowed
