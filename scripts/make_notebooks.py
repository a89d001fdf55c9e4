"""Write the demo pipeline's notebooks in notebooks/ from the cell sources below.

Run after editing: `.venv/bin/python scripts/make_notebooks.py`. The notebooks
are committed without outputs so they diff cleanly; ruff formats their code.
Each uses `mlops_lab.context()`, so it runs the same interactively and as a
pipeline stage (`mlops-lab init --demo DIR` wires them into a pipeline).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"


def params(source: str) -> nbformat.NotebookNode:
    return new_code_cell(source, metadata={"tags": ["parameters"]})


GENERATE = [
    new_markdown_cell(
        "# 1. Generate customers and transactions\n\n"
        "Synthetic data (no download): customers with a segment and a signup date, and "
        "their card transactions over `days` days. Customers who churn slow down and stop "
        "buying towards the end of the period. Saved as the datasets `customers` and "
        "`transactions` (Parquet artifacts, versioned)."
    ),
    params("n_customers = 2000\ndays = 180\nseed = 7"),
    new_code_cell(
        "import numpy as np\n"
        "import pandas as pd\n"
        "\n"
        "import mlops_lab\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "rng = np.random.default_rng(seed)\n"
        "# The data ends now, so that the model server's windows (as of the request time)\n"
        "# see the same recent history the training frame saw.\n"
        "end = pd.Timestamp.now(tz='UTC').floor('h')\n"
        "start = end - pd.Timedelta(days=days)"
    ),
    new_code_cell(
        "segments = rng.choice(['consumer', 'smb', 'enterprise'], n_customers, p=[0.6, 0.3, 0.1])\n"
        "churned = rng.random(n_customers) < np.where(segments == 'enterprise', 0.1, 0.3)\n"
        "customers = pd.DataFrame({\n"
        "    'customer_id': [f'c{i:05d}' for i in range(n_customers)],\n"
        "    'segment': segments,\n"
        "    'signup_at': start - pd.to_timedelta(rng.integers(0, 720, n_customers), unit='D'),\n"
        "    'churned': churned,\n"
        "})\n"
        "customers.head()"
    ),
    new_code_cell(
        "rate = rng.gamma(2.0, 0.06, n_customers)  # purchases per day\n"
        "rows = []\n"
        "for i, customer in enumerate(customers.itertuples()):\n"
        "    count = rng.poisson(rate[i] * days)\n"
        "    offsets = np.sort(rng.random(count))\n"
        "    if customer.churned:  # churners fade out in the last third\n"
        "        offsets = offsets * rng.uniform(0.55, 0.85)\n"
        "    amounts = np.round(rng.lognormal(3.2, 0.6, count), 2)\n"
        "    rows.append(pd.DataFrame({\n"
        "        'customer_id': customer.customer_id,\n"
        "        'event_at': start + pd.to_timedelta(offsets * days, unit='D'),\n"
        "        'amount': amounts,\n"
        "    }))\n"
        "transactions = pd.concat(rows, ignore_index=True)\n"
        "transactions = transactions.sort_values('event_at', ignore_index=True)\n"
        "transactions.describe()"
    ),
    new_code_cell(
        "ctx.save_dataset('customers', customers)\n"
        "ctx.save_dataset('transactions', transactions)\n"
        "ctx.log_metric('customers', len(customers))\n"
        "ctx.log_metric('transactions', len(transactions))\n"
        "ctx.log_metric('churn_rate', float(customers.churned.mean()))"
    ),
]

FEATURES = [
    new_markdown_cell(
        "# 2. Features\n\n"
        "Registers the `customer` entity and the window feature view `customer_spend`: "
        "average, maximum, minimum, total and count of transaction amounts over the 7 and 30 "
        "days up to the time asked for. The training frame takes each customer's windows as "
        "of the end of the period (point-in-time correct: a customer who stopped buying has an "
        "empty 7-day window, count 0 and null amounts), adds recency, tenure and segment, and "
        "is saved as the dataset `training_frame`. The online store is materialized for "
        "serving, where the same windows are computed as of each request."
    ),
    params("windows = ['7d', '30d']"),
    new_code_cell(
        "import mlops_lab\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "store = ctx.workspace.features\n"
        "customers = ctx.load_dataset('customers')\n"
        "transactions = ctx.load_dataset('transactions')\n"
        "source = ctx.dataset_version('transactions')"
    ),
    new_code_cell(
        "store.register_entity('customer', ['customer_id'], description='A card customer')\n"
        "view = store.register_feature_view(\n"
        "    'customer_spend',\n"
        "    entity='customer',\n"
        "    source=f'transactions@{source.version}',\n"
        "    timestamp='event_at',\n"
        "    aggregations=[\n"
        "        {'column': 'amount', 'functions': ['avg', 'max', 'min', 'sum', 'count'],\n"
        "         'windows': windows}\n"
        "    ],\n"
        "    owner='growth-analytics',\n"
        "    tags=['spend', 'customer'],\n"
        "    description='Card spend per customer over sliding windows',\n"
        "    run_id=ctx.run_id,\n"
        ")\n"
        "view.feature_names"
    ),
    new_code_cell(
        "as_of = transactions.event_at.max()\n"
        "entity_df = customers[['customer_id', 'churned']].assign(event_timestamp=as_of)\n"
        "frame = store.get_training_frame(\n"
        "    entity_df, [f'customer_spend:{name}' for name in view.feature_names]\n"
        ")\n"
        "# Empty windows stay null (count 0): the model imputes them, in training and serving.\n"
        "# Columns are assigned in place: the frame keeps its feature lineage (frame.attrs).\n"
        "last_seen = frame.customer_id.map(transactions.groupby('customer_id').event_at.max())\n"
        "frame['days_since_last'] = (as_of - last_seen).dt.days.fillna(999)\n"
        "signup = frame.customer_id.map(customers.set_index('customer_id').signup_at)\n"
        "frame['tenure_days'] = (as_of - signup).dt.days\n"
        "frame['segment'] = customers.segment.to_numpy()  # for per-segment evaluation\n"
        "for segment in sorted(customers.segment.unique()):\n"
        "    is_segment = customers.segment == segment\n"
        "    frame[f'segment_{segment}'] = is_segment.astype(float).to_numpy()\n"
        "frame = frame.drop(columns=['event_timestamp'])\n"
        "frame.head()"
    ),
    new_code_cell(
        "ctx.save_dataset('training_frame', frame)\n"
        "ctx.log_metric('features', frame.shape[1] - 2)\n"
        "ctx.log_params({'windows': windows, 'feature_view_version': view.version})\n"
        "store.materialize('customer_spend')"
    ),
]

TRAIN = [
    new_markdown_cell(
        "# 3. Train\n\n"
        "A scikit-learn gradient-boosting classifier on the training frame (behind an imputer "
        "that reads an empty window's null amounts as 0, so the model server does the same), "
        "with a held-out "
        "split saved as the dataset `holdout`. The model is registered as the next version of "
        "`churn` in the model store, stored with skops (a safe format, not pickle), with its "
        "lineage: this run and notebook, the parameters, the training frame and the feature "
        "views behind it."
    ),
    params("learning_rate = 0.1\nmax_depth = 3\nn_estimators = 150\ntest_size = 0.25\nseed = 7"),
    new_code_cell(
        "from sklearn.ensemble import GradientBoostingClassifier\n"
        "from sklearn.impute import SimpleImputer\n"
        "from sklearn.model_selection import train_test_split\n"
        "from sklearn.pipeline import make_pipeline\n"
        "\n"
        "import mlops_lab\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "frame = ctx.load_dataset('training_frame')\n"
        "features = [c for c in frame.columns if c not in ('customer_id', 'churned', 'segment')]\n"
        "train, holdout = train_test_split(\n"
        "    frame, test_size=test_size, random_state=seed, stratify=frame.churned\n"
        ")"
    ),
    new_code_cell(
        "model = make_pipeline(\n"
        "    SimpleImputer(strategy='constant', fill_value=0.0, keep_empty_features=True),\n"
        "    GradientBoostingClassifier(\n"
        "        learning_rate=learning_rate, max_depth=max_depth, n_estimators=n_estimators,\n"
        "        random_state=seed,\n"
        "    ),\n"
        ")\n"
        "model.fit(train[features], train.churned)\n"
        "ctx.log_metric('train_accuracy', model.score(train[features], train.churned))"
    ),
    new_code_cell(
        "ctx.save_dataset('holdout', holdout.reset_index(drop=True))\n"
        "ctx.log_params({'features': features})\n"
        "mlops_lab.register_model(\n"
        "    'churn', model, X_sample=train[features].head(), training_frame='training_frame',\n"
        "    description='Gradient-boosted churn classifier', tags=['demo', 'churn'],\n"
        ")"
    ),
]

EVALUATE = [
    new_markdown_cell(
        "# 4. Evaluate and promote\n\n"
        "Evaluates the version the train stage registered on the holdout set, overall and per "
        "segment (stored in the evaluation store). The first version becomes `champion`; a "
        "later one takes its place only through the gate: judged by a paired bootstrap "
        "interval on the project's objective metric, with the rule of `mlops_lab.yaml`'s "
        "`project: gate:` (or `min_improvement` when set here), and meeting the project's "
        "objective and guardrails in every segment."
    ),
    params("min_improvement = None  # None: the project definition's gate rule"),
    new_code_cell(
        "import mlops_lab\n"
        "from mlops_lab.errors import NotFoundError\n"
        "from mlops_lab.models import get_model_version\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "model = mlops_lab.load_model('churn')  # the version the train stage registered\n"
        "version = model.version.version\n"
        "holdout = ctx.load_dataset('holdout')\n"
        "evaluation = mlops_lab.evaluate(\n"
        "    f'churn/{version}', 'holdout', label='churned', slices=['segment']\n"
        ")\n"
        "for name in ('accuracy', 'roc_auc', 'log_loss', 'f1'):\n"
        "    ctx.log_metric(name, evaluation.metrics[name])\n"
        "evaluation"
    ),
    new_code_cell(
        "try:\n"
        "    champion = get_model_version(ctx.workspace, 'churn@champion').version\n"
        "except NotFoundError:\n"
        "    champion = None\n"
        "if champion is None:\n"
        "    decision = mlops_lab.promote(\n"
        "        'churn', version, alias='champion', reason='first model of the demo pipeline'\n"
        "    )\n"
        "elif champion != version:\n"
        "    decision = mlops_lab.compare(\n"
        "        'churn', 'holdout', label='churned', baseline='champion',\n"
        "        candidate=str(version), min_improvement=min_improvement,\n"
        "        promote_to='champion',\n"
        "    )\n"
        "else:\n"
        "    decision = 'already champion'\n"
        "decision"
    ),
    new_code_cell("figure = evaluation.plot('roc')\nctx.log_figure('roc', figure)\nfigure"),
]

MONITOR = [
    new_markdown_cell(
        "# 5. Monitor\n\n"
        "Simulates a batch of current customers whose spending has shifted (amounts up by "
        "`spend_shift`, fewer recent purchases) and checks it for drift against the training "
        "frame, with the model's predictions. Drifted columns open an alert asking the `churn` "
        "pipeline to retrain: `mlops-lab ct churn` picks it up. Also stores the result of a "
        "simulated A/B test of a retention offer."
    ),
    params("spend_shift = 1.3\nbatch = 1000\nseed = 11"),
    new_code_cell(
        "import numpy as np\n"
        "import pandas as pd\n"
        "\n"
        "import mlops_lab\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "rng = np.random.default_rng(seed)\n"
        "reference = ctx.load_dataset('training_frame')\n"
        "current = reference.sample(batch, random_state=seed).reset_index(drop=True)\n"
        "spend = [c for c in current.columns if c.startswith('amount_') and 'count' not in c]\n"
        "current[spend] = current[spend] * spend_shift\n"
        "current['days_since_last'] = current.days_since_last + rng.integers(0, 30, batch)\n"
        "ctx.save_dataset('current_batch', current)"
    ),
    new_code_cell(
        "features = [c for c in reference.columns if c not in ('customer_id', 'churned')]\n"
        "report = mlops_lab.check_drift(\n"
        "    'training_frame', 'current_batch', columns=features, model='churn', pipeline='churn'\n"
        ")\n"
        "ctx.log_metric('drifted_columns', len(report.drifted))\n"
        "report"
    ),
    new_code_cell(
        "offer = pd.DataFrame({'variant': rng.choice(['control', 'offer'], 4000)})\n"
        "offer['retained'] = (rng.random(4000) < np.where(offer.variant == 'offer', 0.78, 0.74))\n"
        "offer['retained'] = offer.retained.astype(int)\n"
        "ctx.save_dataset('retention_test', offer)\n"
        "mlops_lab.ab_test(\n"
        "    'retention_test', variant='variant', outcome='retained', name='retention offer'\n"
        ")"
    ),
]


REPORT = [
    new_markdown_cell(
        "# Churn report (a notebook ready for handoff)\n\n"
        "The `top_n` customers of the holdout set most likely to churn according to the "
        "champion model, saved as the dataset `at_risk`. It reads only versioned data, runs "
        "top to bottom, and passes `mlops-lab handoff notebooks/06_churn_report.ipynb`."
    ),
    params("top_n = 25"),
    new_code_cell(
        "import mlops_lab\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "holdout = ctx.load_dataset('holdout')\n"
        "model = mlops_lab.load_model('churn@champion')\n"
        "scores = model.predict_proba(holdout)[:, 1]"
    ),
    new_code_cell(
        "at_risk = holdout.assign(score=scores).nlargest(top_n, 'score')\n"
        "at_risk = at_risk[['customer_id', 'segment', 'score']].reset_index(drop=True)\n"
        "ctx.log_metric('mean_score', float(scores.mean()))\n"
        "ctx.log_metric('at_risk', len(at_risk))\n"
        "ctx.save_dataset('at_risk', at_risk)\n"
        "at_risk.head()"
    ),
]

EXPLORATION = [
    new_markdown_cell(
        "# Exploration (a notebook NOT ready for handoff)\n\n"
        "Written the way exploration happens: it reads a file from the author's disk and "
        "uses `cutoff_days`, which only a later cell defines (it worked in the author's "
        "session because that cell had run before). `mlops-lab handoff "
        "notebooks/07_exploration.ipynb` reports both, and the clean run fails."
    ),
    params("threshold = 0.5"),
    new_code_cell(
        "import pandas as pd\n"
        "\n"
        "import mlops_lab\n"
        "\n"
        "ctx = mlops_lab.context()\n"
        "holdout = ctx.load_dataset('holdout')"
    ),
    new_code_cell("notes = pd.read_csv('exports/customer_notes.csv')  # only on the author's disk"),
    new_code_cell("quiet = holdout[holdout.days_since_last > cutoff_days]\nlen(quiet)"),
    new_code_cell("cutoff_days = 60"),
]


def write(name: str, cells: list[nbformat.NotebookNode]) -> None:
    notebook = new_notebook(cells=cells)
    for index, cell in enumerate(notebook.cells):  # stable ids: regenerating changes nothing
        cell.id = f"{Path(name).stem[:2]}-{index:02d}"
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    nbformat.write(notebook, HERE / name)
    # The sources above are kept short; ruff gives them the project's formatting.
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(HERE / name)], check=True)


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for old in HERE.glob("*.ipynb"):
        old.unlink()
    write("01_generate_data.ipynb", GENERATE)
    write("02_features.ipynb", FEATURES)
    write("03_train.ipynb", TRAIN)
    write("04_evaluate.ipynb", EVALUATE)
    write("05_monitor.ipynb", MONITOR)
    write("06_churn_report.ipynb", REPORT)
    write("07_exploration.ipynb", EXPLORATION)
