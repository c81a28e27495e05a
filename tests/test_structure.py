"""The design's structural rules, checked on the source (AST only, nothing heavy imported).

* no import cycles among cvcore modules (imports inside functions count too);
* no module reaches into another public module's private names, by import
  (``from .filters import _x``) or attribute (``filters._x``);
* ``cvcore._ext`` kernels are imported only by the library modules that own
  them, never by the CLI, ``datasets``, ``io`` or ``draw``;
* ``cvcore._commands`` and ``cvcore.cli`` parse, print and do file I/O: no
  OpenCV or NumPy image processing of their own (a call-name heuristic);
* every public module has a module docstring.

Today's offenders are listed in ``KNOWN_*`` below with the helper of issue 9
that removes them; the lead empties those lists after merging, and
``test_known_offenders_are_still_offenders`` says which entries became stale.
"""
import ast
import importlib.machinery
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "cvcore"
if not ROOT.is_dir():  # tests run against an installed package without the source tree
    ROOT = pathlib.Path(importlib.util.find_spec("cvcore").origin).parent

# ---- today's offenders (file or module -> owning helper) -------------------------------
KNOWN_CYCLES = {
}
KNOWN_PRIVATE_USE = {
}
KNOWN_KERNEL_IMPORTS = {
}
KNOWN_CLI_PROCESSING = {
}

# Modules allowed to import kernels: any library module except these.
NO_KERNELS = ("cvcore.cli", "cvcore._commands", "cvcore.datasets", "cvcore.io", "cvcore.draw",
              "cvcore._validate", "cvcore._progress", "cvcore.calibration.report")
# What the CLI may call: I/O, windows and argument/array plumbing.
CLI_CV2_CALLS = {"imread", "imwrite", "imdecode", "imencode", "VideoCapture", "VideoWriter", "VideoWriter_fourcc",
                 "imshow", "waitKey", "namedWindow", "destroyWindow", "destroyAllWindows", "FileStorage",
                 "setLogLevel", "haveImageReader", "haveImageWriter"}
CLI_NP_CALLS = {"asarray", "array", "ascontiguousarray", "load", "save", "savez", "savez_compressed", "loadtxt",
                "savetxt", "frombuffer", "errstate", "printoptions", "set_printoptions", "isfinite", "iinfo",
                "finfo", "dtype"}


def module_name(path):
    parts = ("cvcore",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load():
    mods = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "_benchmarks" in path.parts:
            continue
        mods[module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return mods


MODULES = _load()
# compiled kernels, from their sources (a checkout) or their extension files (an installed wheel)
KERNELS = {f"cvcore._ext.{p.name.split('.')[0]}" for p in (ROOT / "_ext").iterdir()
           if p.suffix == ".pyx" or p.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))}


def is_package(name):
    return MODULES[name][0].name == "__init__.py"


def is_public(name):
    return not any(p.startswith("_") for p in name.split(".")[1:])


def resolve(importer, node):
    """Absolute module named by an ``ImportFrom`` (relative levels resolved)."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package(importer) else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name):
    """``(target module, imported name or None, line)`` for every import in module ``name``."""
    _, tree = MODULES[name]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(name, node)
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((sub, None, node.lineno) if sub in MODULES or sub in KERNELS else (target, a.name, node.lineno))
    return [(t, n, line) for t, n, line in out if t == "cvcore" or t.startswith("cvcore.")]


def graph():
    return {m: {t for t, _, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(frozenset(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def private_uses(name):
    """``(target module, private name, line)`` reached from module ``name``."""
    found = []
    for target, imported, line in imports(name):
        if imported and imported.startswith("_") and is_public(target) and target != name:
            found.append((target, imported, line))
    # attribute access through a name bound to a public cvcore module: `filters._x`
    _, tree = MODULES[name]
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in MODULES:
                    aliases[a.asname or a.name] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(name, node)
            for a in node.names:
                if f"{target}.{a.name}" in MODULES:
                    aliases[a.asname or a.name] = f"{target}.{a.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain, value = [node.attr], node.value
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in aliases:
            continue
        module = aliases[value.id]
        for attr in chain:  # walk down submodules, stop at the first non-module attribute
            if f"{module}.{attr}" in MODULES and not attr.startswith("_"):
                module = f"{module}.{attr}"
                continue
            if attr.startswith("_") and not attr.endswith("__") and is_public(module) and module != name:
                found.append((module, attr, node.lineno))
            break
    return sorted(set(found))


def kernel_imports(name):
    return sorted({(t, line) for t, _, line in imports(name) if t.startswith("cvcore._ext.")})


def cli_processing(name):
    """Dotted ``cv2.x`` / ``np.x`` calls of a CLI module that are not I/O or plumbing."""
    _, tree = MODULES[name]
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        chain, value = [], node.func
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if not chain or not isinstance(value, ast.Name):
            continue
        if value.id == "cv2" and chain[-1] not in CLI_CV2_CALLS:  # cv2.utils.logging.setLogLevel too
            found.add("cv2." + ".".join(chain))
        elif value.id in ("np", "numpy") and chain[0] not in CLI_NP_CALLS and chain[0] != "random":
            found.add("np." + ".".join(chain))
    return sorted(found)


def is_cli(name):
    return name == "cvcore.cli" or name.startswith("cvcore._commands")


# ---- the rules -----------------------------------------------------------------------------


def test_no_import_cycles():
    new = [sorted(c) for c in cycles(graph()) if c not in KNOWN_CYCLES]
    assert not new, f"import cycles (module-level or inside functions): {new}"


def test_no_module_reaches_into_another_public_modules_private_names():
    bad = []
    for name in MODULES:
        for target, attr, line in private_uses(name):
            if (name, f"{target}.{attr}") not in KNOWN_PRIVATE_USE:
                bad.append(f"{MODULES[name][0].relative_to(ROOT.parent)}:{line} uses {target}.{attr}")
    assert not bad, "private names of public modules used elsewhere (move them to a shared private module):\n" \
        + "\n".join(bad)


def test_kernels_are_imported_only_by_library_modules_that_own_them():
    bad = []
    for name in MODULES:
        if not name.startswith(NO_KERNELS) or name.startswith("cvcore._ext"):
            continue
        for target, line in kernel_imports(name):
            if (name, target) not in KNOWN_KERNEL_IMPORTS:
                bad.append(f"{MODULES[name][0].relative_to(ROOT.parent)}:{line} imports {target}")
    assert not bad, "kernels reached from outside their library module:\n" + "\n".join(bad)


def test_every_kernel_has_a_library_owner():
    assert len(KERNELS) >= 10, KERNELS
    owned = {t for name in MODULES if not name.startswith(NO_KERNELS) for t, _ in kernel_imports(name)}
    assert KERNELS <= owned, f"kernels no library module uses (test-only or dead): {sorted(KERNELS - owned)}"


def test_cli_does_no_image_processing_of_its_own():
    bad = []
    for name in filter(is_cli, MODULES):
        for call in cli_processing(name):
            if (name, call) not in KNOWN_CLI_PROCESSING:
                bad.append(f"{name}: {call}")
    assert not bad, "the CLI parses, prints and does I/O; move this work into the library:\n" + "\n".join(bad)


def test_every_public_module_has_a_docstring():
    missing = [name for name in MODULES
               if (is_public(name) or name in ("cvcore._progress", "cvcore._validate"))
               and not ast.get_docstring(MODULES[name][1])]
    assert not missing, f"modules without a module docstring: {missing}"


def test_known_offenders_are_still_offenders():
    """Entries in the KNOWN_* lists that no longer happen: delete them."""
    stale = [sorted(c) for c in KNOWN_CYCLES if c not in cycles(graph())]
    stale += [k for k in KNOWN_PRIVATE_USE
              if k[0] not in MODULES or k[1] not in {f"{t}.{a}" for t, a, _ in private_uses(k[0])}]
    stale += [k for k in KNOWN_KERNEL_IMPORTS
              if k[0] not in MODULES or k[1] not in {t for t, _ in kernel_imports(k[0])}]
    stale += [k for k in KNOWN_CLI_PROCESSING if k[0] not in MODULES or k[1] not in cli_processing(k[0])]
    assert not stale, f"no longer offenders, remove from the KNOWN_* lists: {stale}"


# ---- the checker checks itself on small sources -------------------------------------------


def test_checker_sees_function_level_cycles_and_private_attribute_use(monkeypatch):
    fake = {
        "cvcore.a": "def f():\n    from . import b\n    return b._hidden\n",
        "cvcore.b": "from cvcore.a import _secret\n",
        "cvcore._commands.x": "import cv2\nimport numpy as np\ndef g(p):\n"
                              "    return cv2.GaussianBlur(cv2.imread(p), (3, 3), 0), np.clip(1, 0, 2)\n",
    }
    for name, src in fake.items():
        monkeypatch.setitem(MODULES, name, (ROOT / (name.split(".", 1)[1].replace(".", "/") + ".py"),
                                            ast.parse(src)))
    assert frozenset({"cvcore.a", "cvcore.b"}) in cycles(graph())
    assert ("cvcore.b", "_hidden", 3) in private_uses("cvcore.a")
    assert ("cvcore.a", "_secret", 1) in private_uses("cvcore.b")
    assert cli_processing("cvcore._commands.x") == ["cv2.GaussianBlur", "np.clip"]
