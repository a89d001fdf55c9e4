"""Forward-only schema migrations of the catalog.

Each :class:`Migration` moves the schema from ``version - 1`` to ``version``
and is applied in its own transaction together with its row in
``schema_version``; a catalog is therefore always at exactly one version.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIGRATIONS", "Migration"]


@dataclass(frozen=True, kw_only=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="artifacts: content-addressed blobs",
        statements=(
            """
            CREATE TABLE artifacts (
                hash       VARCHAR PRIMARY KEY,
                size       BIGINT NOT NULL,
                media_type VARCHAR NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                run_id     VARCHAR
            )
            """,
        ),
    ),
    Migration(
        version=2,
        description="registries: datasets, feature views, models, evaluations, runs",
        statements=(
            """
            CREATE TABLE datasets (
                name        VARCHAR PRIMARY KEY,
                description VARCHAR NOT NULL DEFAULT '',
                created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE feature_views (
                name        VARCHAR PRIMARY KEY,
                description VARCHAR NOT NULL DEFAULT '',
                created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE models (
                name        VARCHAR PRIMARY KEY,
                description VARCHAR NOT NULL DEFAULT '',
                created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE evaluations (
                id         VARCHAR PRIMARY KEY,
                created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE runs (
                id         VARCHAR PRIMARY KEY,
                pipeline   VARCHAR,
                status     VARCHAR NOT NULL,
                started_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                ended_at   TIMESTAMPTZ
            )
            """,
        ),
    ),
)
