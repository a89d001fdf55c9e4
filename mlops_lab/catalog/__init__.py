"""The DuckDB catalog: schema, migrations and short-lived connections."""

from mlops_lab.catalog.catalog import Catalog, iso_utc
from mlops_lab.catalog.migrations import MIGRATIONS, Migration
from mlops_lab.catalog.retry import RetryPolicy

__all__ = ["MIGRATIONS", "Catalog", "Migration", "RetryPolicy", "iso_utc"]
