"""Content-addressed artifact store (local folder by default; any fsspec URL)."""

from mlops_lab.artifacts.location import BlobLocation
from mlops_lab.artifacts.store import PARQUET, Artifact, ArtifactStore, validate_hash

__all__ = ["PARQUET", "Artifact", "ArtifactStore", "BlobLocation", "validate_hash"]
