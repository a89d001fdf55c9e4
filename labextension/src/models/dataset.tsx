import * as React from 'react';

import { ErrorNotice, plural } from '../components';
import { formatDateTime } from '../format';
import { asApiError, MlopsApiError } from '../request';
import { ModelsModel } from './model';
import { IDatasetVersion } from './types';

/**
 * A version's training data (`name@version`) as a link opening the dataset
 * version in detail: rows, columns and dtypes, and the run that made it.
 */
export function TrainingData(props: {
  model: ModelsModel;
  reference: string;
}): JSX.Element {
  const { model, reference } = props;
  const [open, setOpen] = React.useState(false);
  const [found, setFound] = React.useState<IDatasetVersion | null>(null);
  const [error, setError] = React.useState<MlopsApiError | null>(null);
  const toggle = async () => {
    const next = !open;
    setOpen(next);
    if (!next || found) {
      return;
    }
    const [name, version] = reference.split('@');
    try {
      setFound(await model.dataset(name, Number(version)));
    } catch (reason) {
      setError(asApiError(reason));
    }
  };
  return (
    <>
      <button
        type="button"
        className="jp-mlops-link"
        data-testid="mlops-lineage-dataset"
        aria-expanded={open}
        title={open ? 'Hide the dataset version' : 'Show the dataset version'}
        onClick={() => void toggle()}
      >
        <code>{reference}</code>
      </button>
      {open && error && (
        <ErrorNotice
          error={error}
          title="The dataset version could not be loaded"
          testid="mlops-dataset-error"
        />
      )}
      {open && !error && !found && (
        <span className="jp-mlops-placeholder"> Loading…</span>
      )}
      {open && found && (
        <DatasetCard
          dataset={found}
          onRun={
            found.run_id
              ? () => model.links.showRun(found.run_id ?? '', null)
              : null
          }
        />
      )}
    </>
  );
}

function DatasetCard(props: {
  dataset: IDatasetVersion;
  onRun: (() => void) | null;
}): JSX.Element {
  const { dataset, onRun } = props;
  return (
    <div className="jp-mlops-dataset-card" data-testid="mlops-dataset-card">
      <div className="jp-mlops-meta">
        <span data-testid="mlops-dataset-rows">
          {dataset.row_count.toLocaleString()}{' '}
          {plural(dataset.row_count, 'row')}
        </span>
        <span className="jp-mlops-meta-sep">·</span>
        {dataset.columns.length} {plural(dataset.columns.length, 'column')}
        {dataset.created_at && (
          <>
            <span className="jp-mlops-meta-sep">·</span>
            <time dateTime={dataset.created_at}>
              {formatDateTime(dataset.created_at)}
            </time>
          </>
        )}
      </div>
      {onRun && (
        <div className="jp-mlops-meta">
          made by{' '}
          <button
            type="button"
            className="jp-mlops-link"
            data-testid="mlops-dataset-run"
            title="Show the run in the Runs view"
            onClick={onRun}
          >
            run <code>{dataset.run_id}</code>
          </button>
          {dataset.stage && (
            <>
              {' '}
              · stage <code>{dataset.stage}</code>
            </>
          )}
        </div>
      )}
      <ul className="jp-mlops-dataset-columns" aria-label="Columns">
        {dataset.columns.map(column => (
          <li key={column.name}>
            <code>{column.name}</code>{' '}
            <span className="jp-mlops-meta">{column.dtype}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
