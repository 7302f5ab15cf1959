"""The shape of the firmware (docs/architecture.md), read from its imports.

Every import counts, also one inside a function (a lazy import is still a
dependency). The fiscal core does not know the OFD, the network, the UI or
the app; the OFD side does not know the UI or the app; nothing below the
app imports a board; and no two modules of the core import each other,
directly or through others.
"""

import ast
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIRMWARE = os.path.join(ROOT, "firmware")

# layer -> the layers it must never import
FORBIDDEN = {
    "journal": ("kkm", "ofd", "net", "ui", "app"),
    "kkm": ("ofd", "net", "ui", "app"),
    "net": ("kkm", "ofd", "journal", "ui", "app"),
    "ofd": ("ui", "app"),
    "ui": ("ofd", "net", "journal", "app"),
    "fleet": ("ui", "app", "power_on"),
}
# the cashier reads the OFD's texts for the cashier (KZ-17) from their store
ALLOWED = (("ui.cashier", "ofd.texts"), ("ui.menus", "ofd.texts"))
# the screens of the UI call each other (sale -> menu -> sale): navigation,
# not layering; every other package must be free of cycles
CYCLES_ALLOWED = ("ui.",)


def modules():
    out = {}
    for d, _, files in os.walk(FIRMWARE):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f), FIRMWARE)[:-3].replace(os.sep, ".")
                if rel.endswith(".__init__"):
                    rel = rel[: -len(".__init__")]
                out[rel] = os.path.join(d, f)
    return out


def imports(path, known):
    deps = set()
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for n in ast.walk(tree):
        names = []
        if isinstance(n, ast.Import):
            names = [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.module:
            names = [n.module] + [n.module + "." + a.name for a in n.names]
        for name in names:
            # the module itself or the package that holds it
            while name and name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known:
                deps.add(name)
    return deps


def graph():
    mods = modules()
    return {m: imports(p, mods) - {m} for m, p in mods.items()}


def layer(m):
    return m.split(".", 1)[0]


def test_layers_import_only_downwards():
    bad = []
    for m, deps in graph().items():
        for d in deps:
            if layer(d) in FORBIDDEN.get(layer(m), ()) and (m, d) not in ALLOWED:
                bad.append("%s imports %s" % (m, d))
    assert not bad, bad


def test_no_board_or_machine_below_the_app():
    mods = modules()
    bad = []
    for m, p in mods.items():
        with open(p, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for n in ast.walk(tree):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [n.module] if isinstance(n, ast.ImportFrom) and n.module else []
            for name in names:
                if name.split(".")[0] in ("machine", "network", "esp32", "boards"):
                    bad.append("%s imports %s" % (m, name))
    assert not bad, bad


def cycles(g):
    found = []
    state = {}

    def visit(u, stack):
        state[u] = 1
        stack.append(u)
        for v in sorted(g[u]):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v, stack)
        stack.pop()
        state[u] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [])
    return found


def test_no_import_circle_in_the_core():
    g = graph()
    bad = [" -> ".join(c) for c in cycles(g) if not all(m.startswith(CYCLES_ALLOWED) for m in c)]
    assert not bad, bad


def test_the_check_finds_a_circle_and_a_wrong_layer():
    # the checks above are not vacuous: a register that imported the port
    # would be a circle (port -> records is fine, port -> register too, but
    # not both ways) and a layer error
    g = graph()
    assert "kkm.register" in g and "ofd.port" in g and "ofd.sender" in g
    g["kkm.register"] = g["kkm.register"] | {"ofd.port"}
    g["ofd.port"] = g["ofd.port"] | {"kkm.register"}
    assert any("kkm.register" in c and "ofd.port" in c for c in cycles(g))
    assert layer("ofd.port") in FORBIDDEN[layer("kkm.register")]
