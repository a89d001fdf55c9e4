"""Paths of the repository the tests run from."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OPENAPI = REPO / "mlops_lab" / "server" / "openapi.yaml"
README = REPO / "README.md"
