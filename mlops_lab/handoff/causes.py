"""Why two clean runs of a notebook differ, where the code says it.

For a cell whose outputs differ between two runs, the cell's source and the
cells above it are read (with :mod:`ast`) for the usual sources of run-to-run
differences: unseeded randomness (``np.random.*``, ``random.*``, ``torch.rand*``,
``np.random.default_rng()`` without a seed, scikit-learn estimators and
splitters without ``random_state``, with no seed set above), the clock
(``datetime.now``, ``time.time``, ``pd.Timestamp.now``...), hash ordering
(iterating or showing a set, ``hash()``; or the same values printed in another
order: ``PYTHONHASHSEED``) and parallelism (``n_jobs``, thread and process
pools). Evidence in the differing cell itself comes first.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from mlops_lab.handoff.static import CellCode

__all__ = ["NOT_SEEN", "likely_cause"]

NOT_SEEN = "cause not seen"
RANDOMNESS, TIME, HASHING, PARALLEL = (
    "unseeded randomness",
    "time",
    "hash ordering",
    "threads/parallelism",
)
_RANK = {RANDOMNESS: 0, TIME: 1, HASHING: 2, PARALLEL: 3}

_MODULE_RANDOM = {
    "random",
    "randint",
    "randrange",
    "choice",
    "choices",
    "shuffle",
    "sample",
    "uniform",
    "gauss",
    "normalvariate",
    "triangular",
    "betavariate",
    "expovariate",
    "getrandbits",
}
_NUMPY_NOT_RANDOM = {
    "seed",
    "get_state",
    "set_state",
    "Generator",
    "SeedSequence",
    "PCG64",
    "MT19937",
    "BitGenerator",
    "default_rng",
    "RandomState",
}
_TORCH_RANDOM = {
    "rand",
    "randn",
    "randint",
    "randperm",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "bernoulli",
    "multinomial",
}
# scikit-learn estimators, splitters and generators that draw random numbers unless given
# random_state (or a global numpy seed).
_SKLEARN = {
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "BaggingClassifier",
    "BaggingRegressor",
    "AdaBoostClassifier",
    "AdaBoostRegressor",
    "IsolationForest",
    "MLPClassifier",
    "MLPRegressor",
    "SGDClassifier",
    "SGDRegressor",
    "Perceptron",
    "KMeans",
    "MiniBatchKMeans",
    "GaussianMixture",
    "TSNE",
    "RandomizedSearchCV",
    "ShuffleSplit",
    "StratifiedShuffleSplit",
    "train_test_split",
    "make_classification",
    "make_regression",
    "make_blobs",
    "make_moons",
    "make_circles",
    "RandomTreesEmbedding",
    "SVC",
    "LinearSVC",
    "NMF",
    "TruncatedSVD",
}
_SHUFFLING_SPLITTERS = {"KFold", "StratifiedKFold", "GroupKFold", "RepeatedKFold"}
_TIME = {"now", "today", "utcnow", "time", "time_ns", "perf_counter", "monotonic", "process_time"}
_CLOCK_OWNERS = {"datetime", "date", "Timestamp", "time", "pd", "pandas", "dt", "np"}
_POOLS = {"Parallel", "ThreadPoolExecutor", "ProcessPoolExecutor", "Pool", "ThreadPool"}
_SEEDS = {
    "numpy": ("np.random.seed", "numpy.random.seed"),
    "random": ("random.seed",),
    "torch": ("torch.manual_seed",),
}
_SHOWING = {"list", "tuple", "enumerate", "print", "iter", "next", "display"}
_SEED_ALL = ("seed_everything", "set_seed", "set_random_seed")
_WORD = re.compile(r"[\w.+-]+|\S")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _set_like(node: ast.AST) -> bool:
    if isinstance(node, ast.Set | ast.SetComp):
        return True
    if isinstance(node, ast.Call):
        return _dotted(node.func) in ("set", "frozenset")
    if isinstance(node, ast.BinOp):
        return _set_like(node.left) or _set_like(node.right)
    return False


def _random_use(call: ast.Call, name: str) -> str | None:
    """The library whose unseeded random numbers ``call`` draws, or None."""
    parts = name.split(".")
    last = parts[-1]
    numpy_random = len(parts) >= 3 and parts[-2] == "random" and parts[0] in ("np", "numpy")
    if numpy_random and last not in _NUMPY_NOT_RANDOM:
        return "numpy"
    if (
        last in ("default_rng", "RandomState")
        and not call.args
        and _is_none(_keyword(call, "seed"))
    ):
        return "generator"  # np.random.seed does not seed a new Generator
    if len(parts) == 2 and parts[0] == "random" and last in _MODULE_RANDOM:
        return "random"
    if parts[0] == "torch" and last in _TORCH_RANDOM:
        return "torch"
    if name in ("uuid.uuid4", "uuid4", "os.urandom") or parts[0] == "secrets":
        return "entropy"
    if last in _SKLEARN and _is_none(_keyword(call, "random_state")):
        return "numpy"
    shuffle = _keyword(call, "shuffle")
    shuffled = isinstance(shuffle, ast.Constant) and shuffle.value is True
    if last in _SHUFFLING_SPLITTERS and shuffled and _is_none(_keyword(call, "random_state")):
        return "numpy"
    return None


def _uses(cell: CellCode) -> Iterator[tuple[str, str, str | None]]:
    """(kind, what, library) for each source of differences in the cell."""
    if cell.tree is None:
        return
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            library = _random_use(node, name)
            if library is not None:
                yield RANDOMNESS, name or last, library
            elif (
                last in _TIME
                and ("." not in name or name.split(".")[-2] in _CLOCK_OWNERS)
                and (last != "time" or name in ("time.time", "time"))
            ):
                yield TIME, name, None
            elif name == "hash":
                yield HASHING, "hash()", None
            elif last in _POOLS:
                yield PARALLEL, last, None
            elif (name in _SHOWING or last == "join") and any(_set_like(a) for a in node.args):
                yield HASHING, f"{name or last}() of a set", None
            n_jobs = _keyword(node, "n_jobs")
            if n_jobs is not None and not (
                isinstance(n_jobs, ast.Constant) and n_jobs.value in (1, None)
            ):
                yield PARALLEL, f"n_jobs={ast.unparse(n_jobs)}", None
        elif isinstance(node, ast.For | ast.comprehension) and _set_like(node.iter):
            yield HASHING, "iterating a set", None
    body = cell.tree.body
    if body and isinstance(body[-1], ast.Expr) and _set_like(body[-1].value):
        yield HASHING, "a set shown as the cell's result", None


def _seeded(cells: list[CellCode]) -> set[str]:
    libraries: set[str] = set()
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree is not None else ():
            if not isinstance(node, ast.Call):
                continue
            name = _dotted(node.func)
            for library, calls in _SEEDS.items():
                if name in calls or any(name.endswith("." + c) for c in calls):
                    libraries.add(library)
            if name.rsplit(".", 1)[-1] in _SEED_ALL:
                libraries |= set(_SEEDS)
    return libraries


def _reordered(row: dict[str, Any], a: str, b: str) -> bool:
    """The same words and values on both sides, in another order."""
    x, y = str(row.get(a, "")), str(row.get(b, ""))
    return x != y and sorted(_WORD.findall(x)) == sorted(_WORD.findall(y))


def likely_cause(
    cells: list[CellCode], index: int, row: dict[str, Any], names: tuple[str, str]
) -> str:
    """The likely cause of the difference ``row`` in the saved notebook's cell ``index``."""
    upto = [c for c in cells if c.index <= index]
    seeded = _seeded(upto)
    found: dict[str, str] = {}
    if _reordered(row, *names):
        found[HASHING] = "the same values in another order (PYTHONHASHSEED)"
    own = [c for c in upto if c.index == index]
    above = sorted((c for c in upto if c.index != index), key=lambda c: -c.index)
    for group in (own, above):
        seen: dict[str, str] = {}
        for cell in group:
            for kind, what, library in _uses(cell):
                if library is not None and library in seeded:
                    continue
                where = "this cell" if cell.index == index else f"cell {cell.index + 1}"
                note = "; no seed set above" if kind == RANDOMNESS else ""
                seen.setdefault(kind, f"{what} in {where}{note}")
        for kind in sorted(seen, key=_RANK.__getitem__):
            found.setdefault(kind, seen[kind])
        if found:
            break
    if not found:
        return NOT_SEEN
    return "; ".join(f"{kind}: {what}" for kind, what in list(found.items())[:2])
