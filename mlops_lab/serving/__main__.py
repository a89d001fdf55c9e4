"""``python -m mlops_lab.serving BUNDLE``: serve a model bundle without its workspace.

The same HTTP API as ``mlops-lab serve`` (POST /predict, GET /health,
/metadata, /metrics), the version fixed to the bundle's; online features from
``--online-store`` / ``MLOPS_LAB_ONLINE_STORE`` / the URL the bundle was built
with (see :mod:`mlops_lab.serving.bundle_load`). Predictions are logged as
Parquet parts under ``--log-dir`` when given.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mlops_lab.errors import MlopsLabError


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_lab.serving",
        description="Serve a model bundle (made by `mlops-lab package`) over HTTP.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="The bundle's folder or .tar.gz.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--online-store",
        metavar="URL",
        help="redis://host:6379/0 or an online.duckdb path (default: $MLOPS_LAB_ONLINE_STORE, "
        "else the store the bundle was built with).",
    )
    parser.add_argument(
        "--expect-hash",
        metavar="SHA256",
        help="Refuse the bundle unless its bundle.json has this hash (the catalog's "
        "manifest_hash).",
    )
    parser.add_argument("--log-dir", type=Path, help="Log predictions as Parquet parts here.")
    parser.add_argument("--max-instances", type=int, default=1000)
    parser.add_argument("--max-body-bytes", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--drain-seconds", type=float, default=10.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    try:
        from mlops_lab.serving.bundle_load import open_bundle, without_password
        from mlops_lab.serving.lifecycle import bind, run_server
        from mlops_lab.serving.limits import ServingLimits
        from mlops_lab.serving.predlog import PredictionLog

        bundle = open_bundle(args.bundle, store_url=args.online_store, expect_hash=args.expect_hash)
        sockets = bind(args.host, args.port)
        log = PredictionLog(args.log_dir) if args.log_dir is not None else None
        predictor = bundle.predictor(log=log)
        model = bundle.manifest["model"]
        print(
            f"Serving {model['name']} v{model['version']} (bundle {bundle.manifest_hash[:12]}, "
            f"built from {model['ref']}) on http://{args.host}:{args.port}"
            + (f", online store {without_password(bundle.store_url)}" if bundle.store_url else ""),
            file=sys.stderr,
            flush=True,
        )
        run_server(
            predictor,
            host=args.host,
            port=args.port,
            limits=ServingLimits(
                max_instances=args.max_instances, max_body_bytes=args.max_body_bytes
            ),
            drain_seconds=args.drain_seconds,
            sockets=sockets,
        )
    except MlopsLabError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
