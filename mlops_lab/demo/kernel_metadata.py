"""The demo notebooks' kernel metadata, as this installation's kernel reports it.

JupyterLab replaces a notebook's ``language_info`` and ``kernelspec`` with what
its kernel reports when the kernel starts; any difference marks the notebook
unsaved as soon as it opens. The notebooks in the repository carry only
``language_info.name`` (the Python version is the user's, not ours), so the demo
writes its copies with the full metadata of the ``python3`` kernel here:
ipykernel's ``language_info`` for this Python and the kernelspec's display name.
"""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

__all__ = ["with_kernel_metadata"]


def _language_info() -> dict[str, Any]:
    """ipykernel's ``language_info`` for the running Python (what its kernel answers)."""
    major = sys.version_info[0]
    return {
        "codemirror_mode": {"name": "ipython", "version": major},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": f"ipython{major}",
        "version": platform.python_version(),
    }


def _display_name(name: str) -> str | None:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return str(KernelSpecManager().get_kernel_spec(name).display_name)
    except Exception:  # no such kernel here: keep the notebook's own name
        return None


def with_kernel_metadata(data: bytes) -> bytes:
    """A demo notebook's bytes with this installation's ``python3`` kernel metadata."""
    document = json.loads(data)
    metadata = document.setdefault("metadata", {})
    spec = metadata.setdefault("kernelspec", {"name": "python3", "language": "python"})
    shown = _display_name(str(spec.get("name", "python3")))
    if shown:
        spec["display_name"] = shown
    metadata["language_info"] = _language_info()
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
