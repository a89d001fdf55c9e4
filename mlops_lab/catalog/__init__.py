"""The DuckDB catalog: schema, migrations and short-lived connections."""

from mlops_lab.catalog.catalog import Catalog, iso_utc
from mlops_lab.catalog.connection import RetryPolicy
from mlops_lab.catalog.migrations import MIGRATIONS, Migration

__all__ = ["MIGRATIONS", "Catalog", "Migration", "RetryPolicy", "iso_utc"]
