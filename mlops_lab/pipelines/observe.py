"""What a stage's kernel reads, observed from inside the kernel while the notebook runs.

Loaded in the stage's kernel as an IPython extension (``--IPKernelApp.extra_extensions``,
added by the runner to ipykernel command lines only) before the first cell runs: it
adds nothing to the user namespace, ``In``/``Out`` or the execution counts. When the
environment variable :data:`ENV_READS_LOG` names a file, every *first* access is
appended to it as one JSON line, written after every cell before IPython answers
that the cell is done (the kernel is killed right after the last cell; a cell
killed midway, by a timeout or a cancel, loses its own lines), at process exit,
and every 256 lines:

- ``open`` (read or write: a file whose first access is a write is an output),
  ``os.listdir``/``os.scandir`` (folders listed), ``socket.connect`` (IPv4/IPv6),
  ``socket.getaddrinfo`` and ``urllib.Request`` (network), through
  :func:`sys.addaudithook`;
- existence probes, which Python does not audit: ``os.path.exists/isfile/isdir``,
  ``pathlib.Path.exists/is_file/is_dir``, wrapped.

Paths are classified here: inside the workspace (relative, minus the mlops-lab state
folder and the stage's scratch files), outside it (minus the interpreter, installed
packages, the kernel's Jupyter/IPython/matplotlib/fsspec/font files, /proc, /sys, /dev),
network. Limits: reads made by C code without Python's ``open`` (some C extensions,
memory-mapped or native readers) and by subprocesses are not seen.

Only the standard library is imported here: the module is loaded in any kernel.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import pathlib
import site
import socket
import stat
import sys
import sysconfig
import tempfile
import threading
from json.encoder import encode_basestring as _encode_string
from typing import Any

__all__ = ["ENV_READS_LOG", "install", "load_ipython_extension"]

ENV_READS_LOG = "MLOPS_LAB_READS_LOG"
_ENV_HOME = "MLOPS_LAB_HOME"  # mlops_lab.workspace.ENV_HOME (not imported: keep this light)
_ENV_MANIFEST = "MLOPS_LAB_MANIFEST"
_STATE_DIR = ".mlops_lab"
_CONFIG_FILE = "mlops_lab.yaml"
_WANTED = frozenset(
    {
        "open",
        "os.listdir",
        "os.scandir",
        "os.chdir",
        "socket.connect",
        "socket.getaddrinfo",
        "urllib.Request",
    }
)
_FILE = "file"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR
_CREATE_FLAGS = os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PROBES = (
    (os.path, "exists"),
    (os.path, "isfile"),
    (os.path, "isdir"),
    (pathlib.Path, "exists"),
    (pathlib.Path, "is_file"),
    (pathlib.Path, "is_dir"),
)

# Modules that list sys.path folders to find packages and entry points (not data reads).
_SCANNERS = ("pkgutil.py", "entrypoints.py")

_observer: _Observer | None = None


def _from_scanner(frame: Any, depth: int = 8) -> bool:
    """Whether a package scanner (the import system, importlib.metadata, pkgutil,
    pkg_resources, entrypoints) is among the callers (e.g. through glob), not the notebook."""
    while frame is not None and depth > 0:
        caller = frame.f_code.co_filename
        if caller != __file__:
            if "importlib" in caller or "pkg_resources" in caller or caller.endswith(_SCANNERS):
                return True
            depth -= 1
        frame = frame.f_back
    return False


def _is_dir(path: Any) -> bool:
    """Whether ``path`` names a folder (os.stat: not audited, not wrapped)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, TypeError, ValueError):
        return False


def load_ipython_extension(shell: Any) -> None:
    install(shell)


class _Observer:
    def __init__(self, log: str, root: str, shell: Any) -> None:
        self.shell = shell
        self.local = threading.local()
        self.seen: set[Any] = set()
        self.cwd: str | None = os.getcwd()
        self.pending: list[str] = []
        roots = {os.path.abspath(root), os.path.realpath(root)}
        self.roots = sorted(roots, key=len, reverse=True)
        excluded = [os.path.join(r, _STATE_DIR) for r in roots]
        excluded += [os.path.join(r, _CONFIG_FILE) for r in roots]  # read by mlops_lab itself
        manifest = os.environ.get(_ENV_MANIFEST)
        if manifest:
            excluded.append(os.path.dirname(os.path.abspath(manifest)))
        excluded.append(os.path.abspath(log))
        # the interpreter and installed packages, even when they live in the workspace
        excluded += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
        excluded += [p for p in sysconfig.get_paths().values() if p]
        excluded += site.getsitepackages() if hasattr(site, "getsitepackages") else []
        self.excluded = _prefixes(excluded)
        home = os.path.expanduser("~")
        noise = ["/proc", "/sys", "/dev", "/etc/fonts", "/etc/ssl", "/etc/localtime"]
        noise += ["/etc/ipython", "/etc/jupyter"]
        noise += ["/usr/local/etc/ipython", "/usr/local/etc/jupyter"]
        noise += ["/etc/mime.types", "/etc/os-release", "/usr/share/zoneinfo", "/usr/share/fonts"]
        noise += [os.path.join(home, d) for d in (".ipython", ".jupyter", ".local/share/jupyter")]
        noise += [os.path.join(home, ".cache", d) for d in ("matplotlib", "fontconfig")]
        noise += [os.path.join(home, ".config", "matplotlib"), os.path.join(home, ".fonts")]
        # fsspec looks for its config folder when first imported (by mlops_lab or pandas,
        # inside a cell: this module imports neither)
        noise.append(os.environ.get("FSSPEC_CONFIG_DIR") or os.path.join(home, ".config", "fsspec"))
        noise += [site.getuserbase(), os.path.join(tempfile.gettempdir(), "ipykernel_")]
        noise += [os.path.join(tempfile.gettempdir(), "matplotlib-")]
        for name in ("MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR"):
            if os.environ.get(name):
                noise.append(os.environ[name])
        try:
            from jupyter_core.paths import jupyter_config_path, jupyter_path, jupyter_runtime_dir

            noise += [jupyter_runtime_dir(), *jupyter_path(), *jupyter_config_path()]
        except Exception:  # not a Jupyter kernel: nothing more to leave out
            pass
        self.noise = _prefixes(noise)
        self.syspath: tuple[str, ...] = ()
        self.outside_path: tuple[str, ...] = ()
        self.fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._write({"observer": 1, "pid": os.getpid(), "root": root})
        self.flush()  # observed, even if no cell ever runs or the first one is killed

    # -- recording --------------------------------------------------------------
    # Hot path: an event already seen costs a set lookup; only a first access is
    # classified, under a per-thread guard (our own work raises audit events too).

    def _write(self, record: dict[str, Any]) -> None:
        self._line(json.dumps(record))

    def _line(self, line: str) -> None:
        self.pending.append(line)
        if self.shell is None or len(self.pending) >= 256:
            self.flush()

    def flush(self, *_: Any) -> None:
        """Write what is pending: after every cell, before its reply leaves the kernel
        (IPython's ``post_run_cell``), so nothing is lost when the kernel is killed."""
        if self.pending:
            lines, self.pending = self.pending, []
            os.write(self.fd, ("\n".join(lines) + "\n").encode())

    def _cell(self) -> int | str:
        """The running cell's execution count (IPython counts the next one while a cell
        runs); 0 before the first cell; JSON's null without a shell."""
        count = getattr(self.shell, "execution_count", None)
        return count - 1 if isinstance(count, int) else "null"

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _WANTED:
            return
        if event == "open" and _seen(self.seen, (_FILE, args[0], self.cwd)):
            return
        if event == "os.chdir":
            self.cwd = None
            return
        self._guarded(self._audit, event, args)

    def _guarded(self, record: Any, *args: Any, **kwargs: Any) -> None:
        """``record(...)`` unless this thread is already recording (our own work raises
        audit events too); never raising into the notebook."""
        local = self.local
        if getattr(local, "busy", False):
            return
        local.busy = True
        try:
            record(*args, **kwargs)
        except Exception:  # observing must never break the notebook
            pass
        finally:
            local.busy = False

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            if isinstance(mode, str):
                write = any(c in mode for c in "wax")
            else:
                write = bool(
                    isinstance(flags, int) and flags & _WRITE_FLAGS and flags & _CREATE_FLAGS
                )
            if not write and _is_dir(path or "."):
                return  # a folder opened (an entry-point scanner probing sys.path): no read
            self._file(path, "write" if write else "read", _FILE)
        elif event in ("os.listdir", "os.scandir"):
            if _from_scanner(sys._getframe(1)):
                return  # the import system, importlib.metadata, entry points: sys.path scans
            path = args[0] if args and args[0] is not None else "."
            self._file(path, "list", "list")
        elif event == "socket.connect":
            sock, address = args[0], args[1]
            if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
                host, port = address[0], address[1]
                host = f"[{host}]" if ":" in str(host) else host
                self._network("connect", f"{host}:{port}")
        elif event == "socket.getaddrinfo":
            host = args[0].decode() if isinstance(args[0], bytes) else args[0]
            if host:
                self._network("lookup", str(host))
        elif event == "urllib.Request":
            self._network("url", str(args[0]))

    def _network(self, kind: str, target: str) -> None:
        key = (kind, target)
        if key in self.seen:
            return
        self.seen.add(key)
        self._line(
            f'{{"op": "net", "kind": "{kind}", "target": {_quoted(target)}, '
            f'"cell": {self._cell()}}}'
        )

    def probe(self, kind: str, path: Any, result: Any) -> None:
        if not _seen(self.seen, (kind, path, self.cwd)):
            self._guarded(self._file, path, "probe", kind, kind=kind, exists=bool(result))

    def _file(self, path: Any, op: str, group: str, **extra: Any) -> None:
        if isinstance(path, int) or path is None:
            return  # a file descriptor: its opening was seen (or is not a path)
        if self.cwd is None:
            self.cwd = os.getcwd()
        # reads and writes share a group: the first access decides (a written file is an
        # output); the key holds the path as given, so a repeat is found without work
        key = (group, path, self.cwd)
        if _seen(self.seen, key) is not False:
            return  # seen, or an unhashable path-like object (not followed)
        self.seen.add(key)
        name = os.fsdecode(os.fspath(path))
        full = os.path.normpath(os.path.join(self.cwd, name))
        where, shown = self._classify(full)
        if where is not None:  # the JSON line built by hand: json.dumps is the main cost
            line = f'{{"op": "{op}", "where": "{where}", "path": {_quoted(shown)}, '
            line += f'"cell": {self._cell()}'
            if extra:
                line += f', "kind": "{extra["kind"]}", "exists": {str(extra["exists"]).lower()}'
            self._line(line + "}")

    def _classify(self, full: str) -> tuple[str | None, str]:
        if _under(full, self.excluded):
            return None, full
        for root in self.roots:
            if full == root or full.startswith(root + os.sep):
                relative = full[len(root) + 1 :] or "."
                parts = relative.split(os.sep)
                if "__pycache__" in parts[:-1] and relative.endswith(".pyc"):
                    # a cached import of a workspace module: its source is what was read
                    module = parts[-1].split(".")[0] + ".py"
                    relative = os.path.join(*parts[: parts.index("__pycache__")], module)
                return "workspace", relative.replace(os.sep, "/")
        if _under(full, self.noise) or _under(full, self._sys_path()):
            return None, full
        return "outside", full

    def _sys_path(self) -> tuple[str, ...]:
        current = tuple(sys.path)
        if current != self.syspath:
            self.syspath = current
            self.outside_path = _prefixes(os.path.abspath(p) for p in current if p)
        return self.outside_path


def _quoted(text: str) -> str:
    return str(_encode_string(text))


def _seen(seen: set[Any], key: tuple[Any, ...], *, add: bool = False) -> bool | None:
    """Whether ``key`` was seen (adding it if asked); None for an unhashable path."""
    try:
        if add:
            seen.add(key)
            return False
        return key in seen
    except TypeError:
        return None


def _prefixes(paths: Any) -> tuple[str, ...]:
    """Normalised folders (a trailing ``_`` or ``-`` matches any name starting so)."""
    found = set()
    for path in paths:
        if path and path != os.sep:
            found.add(os.path.normpath(path))
    return tuple(sorted(found))


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    for prefix in prefixes:
        if path.startswith(prefix) and (
            len(path) == len(prefix) or prefix[-1] in "_-" or path[len(prefix)] == os.sep
        ):
            return True
    return False


def _wrap(observer: _Observer, owner: Any, name: str) -> None:
    original = getattr(owner, name)
    kind = name.replace("is_", "is")

    @functools.wraps(original)
    def probe(path: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(path, *args, **kwargs)
        observer.probe(kind, path, result)
        return result

    setattr(owner, name, probe)


def install(shell: Any = None) -> bool:
    """Start observing when :data:`ENV_READS_LOG` is set (once per process)."""
    global _observer
    log = os.environ.get(ENV_READS_LOG)
    if not log or _observer is not None:
        return False
    root = os.environ.get(_ENV_HOME) or os.getcwd()
    _observer = _Observer(log, root, shell)
    if shell is not None:
        shell.events.register("post_run_cell", _observer.flush)
    atexit.register(_observer.flush)
    for owner, name in _PROBES:
        _wrap(_observer, owner, name)
    sys.addaudithook(_observer.audit)
    return True
