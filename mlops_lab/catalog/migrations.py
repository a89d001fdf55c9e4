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
    Migration(
        version=3,
        description="pipelines: runs, stage runs, dataset versions, metrics, lineage, alerts",
        statements=(
            "ALTER TABLE runs ADD COLUMN kind VARCHAR NOT NULL DEFAULT 'pipeline'",
            "ALTER TABLE runs ADD COLUMN trigger VARCHAR NOT NULL DEFAULT 'manual'",
            "ALTER TABLE runs ADD COLUMN reason VARCHAR NOT NULL DEFAULT ''",
            "ALTER TABLE runs ADD COLUMN parameters JSON",
            "ALTER TABLE runs ADD COLUMN git_commit VARCHAR",
            "ALTER TABLE runs ADD COLUMN git_dirty BOOLEAN",
            "ALTER TABLE runs ADD COLUMN notebook VARCHAR",
            "ALTER TABLE runs ADD COLUMN runner_host VARCHAR",
            "ALTER TABLE runs ADD COLUMN runner_pid INTEGER",
            "ALTER TABLE runs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false",
            "ALTER TABLE runs ADD COLUMN error VARCHAR",
            """
            CREATE TABLE stage_runs (
                run_id            VARCHAR NOT NULL,
                stage             VARCHAR NOT NULL,
                position          INTEGER NOT NULL,
                needs             JSON NOT NULL,
                notebook          VARCHAR NOT NULL,
                source_hash       VARCHAR NOT NULL,
                parameters        JSON NOT NULL,
                inputs            JSON,
                cache_key         VARCHAR,
                status            VARCHAR NOT NULL,
                cached_from       VARCHAR,
                started_at        TIMESTAMPTZ,
                ended_at          TIMESTAMPTZ,
                duration_s        DOUBLE,
                cells_total       INTEGER,
                cells_done        INTEGER,
                executed_notebook VARCHAR,
                outputs           JSON,
                outputs_hash      VARCHAR,
                error_cell        INTEGER,
                error_name        VARCHAR,
                error_value       VARCHAR,
                traceback         VARCHAR,
                PRIMARY KEY (run_id, stage)
            )
            """,
            """
            CREATE TABLE dataset_versions (
                name          VARCHAR NOT NULL,
                version       INTEGER NOT NULL,
                artifact_hash VARCHAR NOT NULL,
                row_count     BIGINT NOT NULL,
                columns       JSON NOT NULL,
                run_id        VARCHAR,
                stage         VARCHAR,
                created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (name, version)
            )
            """,
            """
            CREATE TABLE metrics (
                run_id    VARCHAR NOT NULL,
                stage     VARCHAR NOT NULL,
                name      VARCHAR NOT NULL,
                step      BIGINT,
                value     DOUBLE NOT NULL,
                logged_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE params (
                run_id VARCHAR NOT NULL,
                stage  VARCHAR NOT NULL,
                name   VARCHAR NOT NULL,
                value  JSON,
                PRIMARY KEY (run_id, stage, name)
            )
            """,
            """
            CREATE TABLE run_artifacts (
                run_id        VARCHAR NOT NULL,
                stage         VARCHAR NOT NULL,
                name          VARCHAR NOT NULL,
                kind          VARCHAR NOT NULL,
                artifact_hash VARCHAR NOT NULL,
                PRIMARY KEY (run_id, stage, name)
            )
            """,
            """
            CREATE TABLE lineage_edges (
                src_kind   VARCHAR NOT NULL,
                src_id     VARCHAR NOT NULL,
                dst_kind   VARCHAR NOT NULL,
                dst_id     VARCHAR NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE alerts (
                id         VARCHAR PRIMARY KEY,
                pipeline   VARCHAR NOT NULL,
                kind       VARCHAR NOT NULL,
                message    VARCHAR NOT NULL,
                status     VARCHAR NOT NULL DEFAULT 'open',
                data       JSON,
                created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                closed_at  TIMESTAMPTZ,
                closed_by_run VARCHAR
            )
            """,
        ),
    ),
    Migration(
        version=4,
        description="feature store: entities, feature view versions, consumers, materializations",
        statements=(
            """
            CREATE TABLE entities (
                name        VARCHAR PRIMARY KEY,
                join_keys   JSON NOT NULL,
                description VARCHAR NOT NULL DEFAULT '',
                created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE feature_view_versions (
                name           VARCHAR NOT NULL,
                version        INTEGER NOT NULL,
                digest         VARCHAR NOT NULL,
                definition     JSON NOT NULL,
                entity         VARCHAR NOT NULL,
                source_dataset VARCHAR NOT NULL,
                source_version INTEGER NOT NULL,
                table_artifact VARCHAR NOT NULL,
                row_count      BIGINT NOT NULL,
                features       JSON NOT NULL,
                owner          VARCHAR NOT NULL DEFAULT '',
                tags           JSON NOT NULL,
                description    VARCHAR NOT NULL DEFAULT '',
                ttl_seconds    BIGINT,
                run_id         VARCHAR,
                created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (name, version)
            )
            """,
            """
            CREATE TABLE feature_consumers (
                view          VARCHAR NOT NULL,
                version       INTEGER NOT NULL,
                feature       VARCHAR NOT NULL,
                consumer_kind VARCHAR NOT NULL,
                consumer_id   VARCHAR NOT NULL,
                created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE materializations (
                view            VARCHAR NOT NULL,
                version         INTEGER NOT NULL,
                store           VARCHAR NOT NULL,
                last_event_at   TIMESTAMPTZ,
                rows_written    BIGINT NOT NULL,
                materialized_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
        ),
    ),
    Migration(
        version=5,
        description="model store: versions, aliases and alias history",
        statements=(
            """
            CREATE TABLE model_versions (
                name             VARCHAR NOT NULL,
                version          INTEGER NOT NULL,
                flavor           VARCHAR NOT NULL,
                artifact_hash    VARCHAR NOT NULL,
                trusted          BOOLEAN NOT NULL DEFAULT false,
                signature        JSON,
                run_id           VARCHAR,
                stage            VARCHAR,
                training_dataset VARCHAR,
                feature_views    JSON,
                parameters       JSON,
                description      VARCHAR NOT NULL DEFAULT '',
                tags             JSON NOT NULL,
                created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (name, version)
            )
            """,
            """
            CREATE TABLE model_aliases (
                name       VARCHAR NOT NULL,
                alias      VARCHAR NOT NULL,
                version    INTEGER NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (name, alias)
            )
            """,
            """
            CREATE TABLE alias_history (
                name         VARCHAR NOT NULL,
                alias        VARCHAR NOT NULL,
                from_version INTEGER,
                to_version   INTEGER NOT NULL,
                changed_by   VARCHAR NOT NULL,
                reason       VARCHAR NOT NULL,
                changed_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
        ),
    ),
    Migration(
        version=6,
        description="model lineage; evaluation store: evaluations, comparisons, drift, A/B tests",
        statements=(
            "ALTER TABLE model_versions ADD COLUMN notebook VARCHAR",
            "ALTER TABLE model_versions ADD COLUMN notebook_hash VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN model VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN version INTEGER",
            "ALTER TABLE evaluations ADD COLUMN dataset VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN dataset_version INTEGER",
            "ALTER TABLE evaluations ADD COLUMN task VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN label VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN row_count BIGINT",
            "ALTER TABLE evaluations ADD COLUMN metrics JSON",
            "ALTER TABLE evaluations ADD COLUMN slices JSON",
            "ALTER TABLE evaluations ADD COLUMN details_artifact VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN run_id VARCHAR",
            "ALTER TABLE evaluations ADD COLUMN stage VARCHAR",
            """
            CREATE TABLE comparisons (
                id              VARCHAR PRIMARY KEY,
                model           VARCHAR NOT NULL,
                baseline        INTEGER NOT NULL,
                candidate       INTEGER NOT NULL,
                dataset         VARCHAR NOT NULL,
                dataset_version INTEGER NOT NULL,
                metric          VARCHAR NOT NULL,
                result          JSON NOT NULL,
                decision        VARCHAR NOT NULL,
                reason          VARCHAR NOT NULL,
                run_id          VARCHAR,
                created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE drift_profiles (
                dataset_hash     VARCHAR NOT NULL,
                columns_key      VARCHAR NOT NULL,
                profile_artifact VARCHAR NOT NULL,
                created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (dataset_hash, columns_key)
            )
            """,
            """
            CREATE TABLE drift_reports (
                id              VARCHAR PRIMARY KEY,
                reference       VARCHAR NOT NULL,
                current         VARCHAR NOT NULL,
                model           VARCHAR,
                columns_checked INTEGER NOT NULL,
                drifted         JSON NOT NULL,
                drifted_share   DOUBLE NOT NULL,
                verdict         VARCHAR NOT NULL,
                report_artifact VARCHAR NOT NULL,
                settings        JSON NOT NULL,
                alert_id        VARCHAR,
                run_id          VARCHAR,
                created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            """
            CREATE TABLE ab_tests (
                id              VARCHAR PRIMARY KEY,
                name            VARCHAR NOT NULL,
                dataset         VARCHAR NOT NULL,
                dataset_version INTEGER NOT NULL,
                variant_column  VARCHAR NOT NULL,
                outcome         VARCHAR NOT NULL,
                kind            VARCHAR NOT NULL,
                control         VARCHAR NOT NULL,
                result          JSON NOT NULL,
                run_id          VARCHAR,
                created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
        ),
    ),
    Migration(
        version=7,
        description="handoffs: checked contracts of notebooks; run environments",
        statements=(
            "ALTER TABLE runs ADD COLUMN environment JSON",
            """
            CREATE TABLE handoffs (
                id                VARCHAR PRIMARY KEY,
                notebook          VARCHAR NOT NULL,
                notebook_hash     VARCHAR NOT NULL,
                pipeline          VARCHAR NOT NULL,
                stage             VARCHAR NOT NULL,
                status            VARCHAR NOT NULL,
                contract          JSON NOT NULL,
                findings          JSON NOT NULL,
                report_artifact   VARCHAR NOT NULL,
                check_run         VARCHAR,
                created_by        VARCHAR NOT NULL,
                created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
        ),
    ),
    Migration(
        version=8,
        description="deployments: model servers started with mlops-lab serve",
        statements=(
            """
            CREATE TABLE deployments (
                id          VARCHAR PRIMARY KEY,
                ref         VARCHAR NOT NULL,
                challenger  VARCHAR,
                split       DOUBLE NOT NULL DEFAULT 0,
                url         VARCHAR NOT NULL,
                host        VARCHAR NOT NULL,
                pid         INTEGER NOT NULL,
                log_folder  VARCHAR,
                status      VARCHAR NOT NULL DEFAULT 'running',
                started_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                stopped_at  TIMESTAMPTZ,
                counts      JSON
            )
            """,
        ),
    ),
    Migration(
        version=9,
        description="window views keep their events; online/offline consistency reports",
        statements=(
            # 'rows': one row per entity and event time (plain views); 'events': a window
            # view's events, aggregated as of the time asked for; 'event_windows': a window
            # view computed before version 9 (as of each event), recomputed on first use.
            "ALTER TABLE feature_view_versions ADD COLUMN table_format VARCHAR DEFAULT 'rows'",
            "UPDATE feature_view_versions SET table_format = 'event_windows' "
            "WHERE json_array_length(definition->'aggregations') > 0",
            "ALTER TABLE feature_view_versions ADD COLUMN rebuilt_from VARCHAR",
            "ALTER TABLE materializations ADD COLUMN horizon TIMESTAMPTZ",
            """
            CREATE TABLE feature_consistency (
                id          VARCHAR PRIMARY KEY,
                view        VARCHAR NOT NULL,
                since       TIMESTAMPTZ,
                rows_checked BIGINT NOT NULL,
                mismatches  BIGINT NOT NULL,
                report      JSON NOT NULL,
                created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
        ),
    ),
    Migration(
        version=10,
        description="stage runs keep what their kernel read (observed reads, the cache's check)",
        statements=("ALTER TABLE stage_runs ADD COLUMN reads JSON",),
    ),
    Migration(
        version=11,
        description="stage runs keep how they ran (kernel, why not the notebook's own, limits)",
        statements=("ALTER TABLE stage_runs ADD COLUMN execution JSON",),
    ),
    Migration(
        version=12,
        description="alerts deduplicated (key, count, last seen), acknowledged or closed by "
        "someone with a reason; A/B tests closed (archived) the same way",
        statements=(
            # An alert's status: open, acknowledged (seen, still active) or closed.
            # Rows from before 12 have no key: they are never merged into.
            "ALTER TABLE alerts ADD COLUMN dedup_key VARCHAR",
            "ALTER TABLE alerts ADD COLUMN occurrences INTEGER DEFAULT 1",
            "ALTER TABLE alerts ADD COLUMN last_seen_at TIMESTAMPTZ",
            "ALTER TABLE alerts ADD COLUMN acknowledged_at TIMESTAMPTZ",
            "ALTER TABLE alerts ADD COLUMN acknowledged_by VARCHAR",
            "ALTER TABLE alerts ADD COLUMN acknowledge_reason VARCHAR",
            "ALTER TABLE alerts ADD COLUMN closed_by VARCHAR",
            "ALTER TABLE alerts ADD COLUMN close_reason VARCHAR",
            "ALTER TABLE ab_tests ADD COLUMN status VARCHAR DEFAULT 'active'",
            "ALTER TABLE ab_tests ADD COLUMN closed_at TIMESTAMPTZ",
            "ALTER TABLE ab_tests ADD COLUMN closed_by VARCHAR",
            "ALTER TABLE ab_tests ADD COLUMN close_reason VARCHAR",
        ),
    ),
    Migration(
        version=13,
        description="streamed feature views: their sources and their consumers' progress",
        statements=(
            # A feature view's stream source, declared from Python (mlops_lab.yaml's
            # streams: section is read as is and wins).
            """
            CREATE TABLE feature_streams (
                view        VARCHAR PRIMARY KEY,
                source      VARCHAR NOT NULL,
                id_column   VARCHAR,
                max_future_seconds INTEGER,
                declared_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
            # One row per ingest process (consumer) of a view, updated as it goes.
            """
            CREATE TABLE stream_consumers (
                view          VARCHAR NOT NULL,
                consumer      VARCHAR NOT NULL,
                source        VARCHAR NOT NULL,
                status        VARCHAR NOT NULL,
                pid           INTEGER,
                started_at    TIMESTAMPTZ NOT NULL,
                updated_at    TIMESTAMPTZ NOT NULL,
                received      BIGINT NOT NULL DEFAULT 0,
                applied       BIGINT NOT NULL DEFAULT 0,
                duplicates    BIGINT NOT NULL DEFAULT 0,
                dead_letters  BIGINT NOT NULL DEFAULT 0,
                rate          DOUBLE,
                lag           BIGINT,
                freshness_ms  DOUBLE,
                last_event_at TIMESTAMPTZ,
                last_error    VARCHAR,
                last_error_at TIMESTAMPTZ,
                parts         BIGINT NOT NULL DEFAULT 0,
                dataset_version INTEGER,
                PRIMARY KEY (view, consumer)
            )
            """,
        ),
    ),
    Migration(
        version=14,
        description="data checks: each evaluation of a dataset version's declared checks",
        statements=(
            # One row per check of one evaluation. version is NULL when the version was
            # refused: its stage failed on a check, so it was never registered.
            """
            CREATE TABLE dataset_checks (
                evaluation    VARCHAR NOT NULL,
                position      INTEGER NOT NULL,
                dataset       VARCHAR NOT NULL,
                version       INTEGER,
                artifact_hash VARCHAR NOT NULL,
                check_name    VARCHAR NOT NULL,
                kind          VARCHAR NOT NULL,
                column_name   VARCHAR,
                passed        BOOLEAN NOT NULL,
                expected      JSON,
                observed      JSON,
                failing_rows  BIGINT,
                sample        JSON,
                message       VARCHAR NOT NULL,
                run_id        VARCHAR,
                stage         VARCHAR,
                checked_at    TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (evaluation, position)
            )
            """,
            "CREATE INDEX dataset_checks_version ON dataset_checks (dataset, version)",
            "CREATE INDEX dataset_checks_run ON dataset_checks (run_id)",
        ),
    ),
    Migration(
        version=15,
        description="model bundles: a version packaged for serving without the workspace",
        statements=(
            # One row per `mlops-lab package` of a model version: its archive (an artifact),
            # the manifest's hash (the bundle's identity, checked at serve time), where it
            # was written, and how it resolved the reference.
            """
            CREATE TABLE model_bundles (
                id              VARCHAR PRIMARY KEY,
                model           VARCHAR NOT NULL,
                version         INTEGER NOT NULL,
                ref             VARCHAR NOT NULL,
                artifact_hash   VARCHAR NOT NULL,
                manifest_hash   VARCHAR NOT NULL,
                size            BIGINT NOT NULL,
                path            VARCHAR NOT NULL,
                online_store    VARCHAR,
                mlops_lab_version VARCHAR NOT NULL,
                created_by      VARCHAR,
                created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
            )
            """,
        ),
    ),
    Migration(
        version=16,
        description="progressive rollouts: their state and every decision with its numbers",
        statements=(
            # One row per `mlops-lab rollout`: what moves (model, alias, the version of
            # to_alias), where (the deployment), its plan and bounds, and where it is.
            # `control` is a request (pause, resume, abort) the controller reads.
            """
            CREATE TABLE rollouts (
                id            VARCHAR PRIMARY KEY,
                model         VARCHAR NOT NULL,
                alias         VARCHAR NOT NULL,
                to_alias      VARCHAR NOT NULL,
                from_version  INTEGER,
                to_version    INTEGER NOT NULL,
                deployment_id VARCHAR NOT NULL,
                url           VARCHAR NOT NULL,
                steps         JSON NOT NULL,
                interval_s    DOUBLE NOT NULL,
                bounds        JSON NOT NULL,
                outcomes      JSON,
                state         VARCHAR NOT NULL DEFAULT 'running',
                step_index    INTEGER NOT NULL DEFAULT 0,
                split         DOUBLE NOT NULL DEFAULT 0,
                holds         INTEGER NOT NULL DEFAULT 0,
                control       VARCHAR,
                control_by    VARCHAR,
                reason        VARCHAR,
                host          VARCHAR NOT NULL,
                pid           INTEGER NOT NULL,
                started_by    VARCHAR NOT NULL,
                started_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                updated_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                ended_at      TIMESTAMPTZ
            )
            """,
            # Every decision (continue, hold, rollback, promote, pause, resume, abort) with
            # the step's window and the numbers it was taken on.
            """
            CREATE TABLE rollout_decisions (
                rollout_id    VARCHAR NOT NULL,
                seq           INTEGER NOT NULL,
                step_index    INTEGER NOT NULL,
                split         DOUBLE NOT NULL,
                decision      VARCHAR NOT NULL,
                reason        VARCHAR NOT NULL,
                analysis      JSON,
                window_start  TIMESTAMPTZ,
                window_end    TIMESTAMPTZ,
                decided_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                PRIMARY KEY (rollout_id, seq)
            )
            """,
        ),
    ),
    Migration(
        version=17,
        description="stage runs keep the results of their checks (assertions, lint)",
        # A list of {kind, name, status, expected, observed, message}: see
        # mlops_lab.pipelines.assertions; a cached stage keeps those of the run it reused.
        statements=("ALTER TABLE stage_runs ADD COLUMN checks JSON",),
    ),
)
