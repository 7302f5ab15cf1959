# docs/compliance.md stays exact: one row per numbered requirement item, every
# file, test and code name it cites exists, and a row that says "done" names a
# test. Each check collects every problem and fails once with the whole list.
#
# The item-list check reads the requirements digest, which lives next to the
# project (../shared/REQUIREMENTS.md) and is not part of a clone: it is skipped
# when the file is absent. The reference checks need only the project.
import ast
import fnmatch
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "compliance.md")
REQS = os.path.abspath(os.path.join(ROOT, "..", "shared", "REQUIREMENTS.md"))

# Item numbers as the digest writes them: KZ-1, KZ-2.3(1), KZ-24¶2, KZ-ND-36,
# KZ-ND-T1, R-56, R-56(7), S000-1, A8-1.6.1.
ID = (r"KZ-ND-(?:T1|\d+)|KZ-\d+(?:\.\d+)*(?:\(\d+\)|¶\d+)?"
      r"|R-\d+(?:\(\d+\))?|S00\d-\d+|A8-\d+(?:\.\d+)*")
ID_RE = re.compile(r"(?<![\w-])(?:%s)(?![\w¶])" % ID)
# "R-33...R-37", "KZ-44 ... KZ-76": a range in the not-applicable list.
RANGE_RE = re.compile(r"(?<![\w-])(%s)\s*(?:\.\.\.|…)\s*(%s)(?![\w¶])" % (ID, ID))
# The Item cell: an item number, optionally with a lowercase qualifier
# ("R-56 (special)").
ITEM_RE = re.compile(r"^(%s)(?: \(([a-z ]+)\))?$" % ID)
# A definition in the digest: "**KZ-1.** ...", "- **KZ-1.1** ...",
# "  - **KZ-2.3(1)** ...", "- **S000-1 Automatic ...**", "| R-56(1) | ...".
DEF_RES = (re.compile(r"^\s*(?:- )?\*\*(%s)(?=[.*\s:])" % ID),
           re.compile(r"^\|\s*(%s)\s*\|" % ID))

# Paths the rows cite. kkm/, ofd/ and journal/ are short for firmware/...
PATH_RE = re.compile(r"(?<![\w./-])((?:firmware|kkm|ofd|journal|tools|docs|tests|boards|drivers)"
                     r"/[\w./-]*\w)")
SHORT = {"kkm": "firmware/kkm", "ofd": "firmware/ofd", "journal": "firmware/journal"}
# Test references, in the order they appear in a cell: a test file with an
# optional ::name, a ::name of the last file, a bare test file name (not
# allowed: give the path), a bare test name or glob (of the last file).
TESTREF_RE = re.compile(
    r"(?P<file>(?<![\w./-])tests/[\w/.-]+?\.py)(?:::(?P<fname>[\w*]+)(?:\[[^\]]*\])?)?"
    r"|(?<![\w/.:])::(?P<cname>[\w*]+)(?:\[[^\]]*\])?"
    r"|(?P<bare>(?<![\w/.:-])test_[\w*]*\.py)"
    r"|(?P<name>(?<![\w/.:-])test_[\w*]+)")
# A code name written right after a cited .py file: `kkm/layout.py` qr_payload,
# `kkm/auth.py` _check_password, Auth.set_user ... (a comma-separated list of
# plain or backticked names; the list ends at anything else).
NAME_RE = re.compile(r"\s*(`?)([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)(?:\(\))?\1(?=$|[\s,;:)])")


def _doc():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def _rows():
    # [(line number, [item, requirement, code, test, status])] of the table.
    rows = []
    in_table = False
    for n, line in enumerate(_doc().splitlines(), 1):
        s = line.strip()
        if s.startswith("| Item |"):
            in_table = True
            continue
        if not in_table:
            continue
        if not s.startswith("|"):
            if rows:
                break
            continue
        if set(s) <= set("|- "):
            continue
        rows.append((n, [c.strip() for c in s[1:-1].split("|")]))
    return rows


def _na_text():
    doc = _doc()
    at = doc.find("## Not applicable")
    return doc[at:] if at >= 0 else ""


def _path(p):
    head = p.split("/", 1)[0]
    if head in SHORT:
        p = SHORT[head] + p[len(head):]
    return p


_SYMS = {}


def _symbols(rel):
    # (top-level names, {class: member names}, string constants) of a Python
    # file; members are methods, class attributes and self.<attr> assigned in
    # the class; the strings are keys such as settings names and message fields.
    if rel in _SYMS:
        return _SYMS[rel]
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    top, classes = set(), {}
    strings = set(n.value for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str))

    def targets(node):
        out = []
        for t in getattr(node, "targets", None) or [getattr(node, "target", None)]:
            if isinstance(t, ast.Name):
                out.append(t.id)
            elif isinstance(t, ast.Tuple):
                out.extend(e.id for e in t.elts if isinstance(e, ast.Name))
        return out

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            top.update(targets(node))
        if isinstance(node, ast.ClassDef):
            members = set()
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    members.add(sub.name)
                elif isinstance(sub, (ast.Assign, ast.AnnAssign)):
                    members.update(targets(sub))
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store)
                        and isinstance(sub.value, ast.Name) and sub.value.id == "self"):
                    members.add(sub.attr)
            classes[node.name] = members
    _SYMS[rel] = (top, classes, strings)
    return _SYMS[rel]


def _defined(rel, name):
    top, classes, strings = _symbols(rel)
    if "." in name:
        cls, attr = name.split(".", 1)
        return cls in classes and attr in classes[cls]
    return name in top or name in strings or any(name in m for m in classes.values())


def _looks_like_code(name):
    # Only names that cannot be an English word: with an underscore or a dot,
    # or CamelCase. Plain lowercase words after a path are prose.
    return ("_" in name or "." in name
            or re.match(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$", name) is not None)


def _test_names(rel):
    top, classes, _ = _symbols(rel)
    names = set(n for n in top if n.startswith("test"))
    for cls, members in classes.items():
        if cls.startswith("Test"):
            names.update(m for m in members if m.startswith("test"))
    return names


def _all_test_files():
    out = []
    for sub in ("core", "host"):
        d = os.path.join(ROOT, "tests", sub)
        out.extend("tests/%s/%s" % (sub, f) for f in sorted(os.listdir(d))
                   if f.startswith("test_") and f.endswith(".py"))
    return out


def _name_ok(rel, pattern):
    names = _test_names(rel)
    if "*" in pattern:
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)
    return pattern in names


def _check_cell(where, column, cell, problems):
    # Paths, code names after a .py path, and test references of one cell.
    for m in PATH_RE.finditer(cell):
        rel = _path(m.group(1))
        if rel.startswith("tests/") and rel.endswith(".py"):
            continue  # a test file: below
        if not os.path.exists(os.path.join(ROOT, rel)):
            problems.append("%s %s: no such file or folder %r" % (where, column, m.group(1)))
            continue
        if not rel.endswith(".py"):
            continue
        rest = cell[m.end():]
        if rest.startswith("`"):
            rest = rest[1:]
        while True:
            nm = NAME_RE.match(rest)
            if nm is None:
                break
            name = nm.group(2)
            if _looks_like_code(name) and not _defined(rel, name):
                problems.append("%s %s: %r is not defined in %s" % (where, column, name, rel))
            rest = rest[nm.end():]
            comma = re.match(r"\s*,", rest)
            if comma is None:
                break
            rest = rest[comma.end():]
    current = None
    for m in TESTREF_RE.finditer(cell):
        if m.group("file"):
            rel = m.group("file")
            if not os.path.isfile(os.path.join(ROOT, rel)):
                problems.append("%s %s: no such test file %r" % (where, column, rel))
                current = None
                continue
            current = rel
            if m.group("fname") and not _name_ok(rel, m.group("fname")):
                problems.append("%s %s: no test %r in %s" % (where, column, m.group("fname"), rel))
        elif m.group("bare"):
            problems.append("%s %s: %r needs its path (tests/core/... or tests/host/...)"
                            % (where, column, m.group("bare")))
            current = None
        else:
            name = m.group("cname") or m.group("name")
            if current is not None:
                if not _name_ok(current, name):
                    problems.append("%s %s: no test %r in %s" % (where, column, name, current))
            elif column == "Test":
                problems.append("%s %s: test %r is not preceded by its file" % (where, column, name))
            elif not any(_name_ok(f, name) for f in _all_test_files()):
                problems.append("%s %s: no test %r in tests/" % (where, column, name))


def _fail(problems, head="docs/compliance.md"):
    # One failure that lists every problem found.
    if problems:
        pytest.fail("%s: %d problem(s)\n  %s" % (head, len(problems), "\n  ".join(problems)),
                    pytrace=False)


def test_table_rows_are_well_formed_and_unique():
    rows = _rows()
    assert len(rows) > 100
    problems = []
    seen = {}
    for n, cells in rows:
        if len(cells) != 5:
            problems.append("line %d: %d cells, expected 5 (Item | Requirement | Code | Test | Status)"
                            % (n, len(cells)))
            continue
        if ITEM_RE.match(cells[0]) is None:
            problems.append("line %d: item %r is not an item number" % (n, cells[0]))
        if cells[0] in seen:
            problems.append("line %d: item %s already has a row at line %d" % (n, cells[0], seen[cells[0]]))
        seen.setdefault(cells[0], n)
        status = cells[4]
        if not re.match(r"^(done|partial|not yet|not applicable)\b", status):
            problems.append("line %d (%s): status %r is not done / partial / not yet / not applicable"
                            % (n, cells[0], status[:40]))
    _fail(problems)


def test_references_point_at_existing_files_tests_and_names():
    problems = []
    for n, cells in _rows():
        if len(cells) != 5:
            continue
        where = "line %d (%s)" % (n, cells[0])
        for column, cell in zip(("Code", "Test", "Status"), cells[2:]):
            _check_cell(where, column, cell, problems)
    _fail(problems)


def test_done_rows_name_a_test():
    problems = []
    for n, cells in _rows():
        if len(cells) == 5 and cells[4].startswith("done"):
            if not re.search(r"(?<![\w./-])tests/[\w/.-]+\.py", cells[3]):
                problems.append("line %d (%s): status done but the Test column names no test file"
                                % (n, cells[0]))
    _fail(problems)


def _parents(item):
    # KZ-2.3(1) -> KZ-2.3 -> KZ-2; R-56(7) -> R-56; KZ-24¶2 -> KZ-24; A8-1.6.1 -> A8-1.6 -> A8-1
    out = []
    while True:
        m = re.match(r"^(.*?)(?:\(\d+\)|¶\d+|\.\d+)$", item)
        if m is None or m.group(1).endswith("-"):
            return out
        item = m.group(1)
        out.append(item)


def _family(item):
    # ("KZ-", 44) for KZ-44.3(1); ("KZ-ND-", 4); ("R-", 33); None for KZ-ND-T1.
    m = re.match(r"^(KZ-ND-|KZ-|R-|S00\d-|A8-)(\d+)", item)
    return (m.group(1), int(m.group(2))) if m else None


def _not_applicable():
    # (single items, [(family, low, high)]) named in the not-applicable part.
    text = _na_text()
    ranges = []
    for m in RANGE_RE.finditer(text):
        a, b = _family(m.group(1)), _family(m.group(2))
        if a and b and a[0] == b[0]:
            ranges.append((a[0], a[1], b[1]))
    return set(ID_RE.findall(text)), ranges


def _is_na(item, singles, ranges):
    for it in [item] + _parents(item):
        if it in singles:
            return True
        fam = _family(it)
        if fam and any(f == fam[0] and lo <= fam[1] <= hi for f, lo, hi in ranges):
            return True
    return False


@pytest.mark.skipif(not os.path.isfile(REQS),
                    reason="the requirements digest (../shared/REQUIREMENTS.md next to the project) "
                           "is not part of a clone; the item list is checked where it exists")
def test_every_requirement_item_has_exactly_one_row():
    with open(REQS, encoding="utf-8") as f:
        reqs = f.read()
    defined = []
    for line in reqs.splitlines():
        for rx in DEF_RES:
            m = rx.match(line)
            if m and m.group(1) not in defined:
                defined.append(m.group(1))
    mentioned = set(ID_RE.findall(reqs))
    # R-2 exists when R-2(1) is cited.
    exists = set(mentioned)
    for item in mentioned:
        exists.update(_parents(item))
    assert "KZ-43.4" in defined and "R-56(16)" in defined and "S001-6" in defined
    rows = [(n, cells[0]) for n, cells in _rows()]
    count = {}
    for n, item in rows:
        m = ITEM_RE.match(item)
        if m:
            count[item] = count.get(item, 0) + 1
    bases = set()
    for n, item in rows:
        m = ITEM_RE.match(item)
        if m:
            bases.add(m.group(1))
    singles, ranges = _not_applicable()
    problems = []
    for n, item in rows:
        m = ITEM_RE.match(item)
        if m and m.group(1) not in exists:
            problems.append("line %d: item %s does not exist in REQUIREMENTS.md" % (n, m.group(1)))
    for item in sorted(singles):
        if item not in exists:
            problems.append("not-applicable list: item %s does not exist in REQUIREMENTS.md" % item)
    for item in defined:
        rows_of = count.get(item, 0)
        if rows_of > 1:
            problems.append("item %s has %d rows" % (item, rows_of))
        elif rows_of == 0 and not _is_na(item, singles, ranges):
            problems.append("item %s (defined in REQUIREMENTS.md) has no row and is not in the "
                            "not-applicable list" % item)
    # Items the digest only cites (R-2(1), KZ-106.4, A8-1.6.1 ...) are covered
    # by their own row, a parent's row or the not-applicable list.
    for item in sorted(mentioned - set(defined)):
        if any(it in bases for it in [item] + _parents(item)):
            continue
        if not _is_na(item, singles, ranges):
            problems.append("item %s (cited in REQUIREMENTS.md) has no row, no parent row and is not "
                            "in the not-applicable list" % item)
    _fail(problems, "docs/compliance.md against REQUIREMENTS.md")
