import * as React from 'react';

import { byMetric, formatAge, formatNumber } from '../format';
import { IConfusionMatrix, IEvaluationSummary, ISliceMetrics } from './types';

/**
 * Every metric of the model's evaluations: a row per version and dataset
 * (the newest evaluation of each), a column per metric. A row shows that
 * evaluation below.
 */
export function MetricsTable(props: {
  evaluations: IEvaluationSummary[];
  selected: string | null;
  onSelect: (id: string) => void;
}): JSX.Element {
  const rows = newestPerVersionAndDataset(props.evaluations);
  const metrics = [...new Set(rows.flatMap(e => Object.keys(e.metrics)))];
  metrics.sort(byMetric);
  return (
    <div className="jp-mlops-table-scroll">
      <table
        className="jp-mlops-table jp-mlops-eval-table"
        data-testid="mlops-eval-metrics"
      >
        <thead>
          <tr>
            <th>Version</th>
            <th>Dataset</th>
            {metrics.map(metric => (
              <th key={metric} className="jp-mlops-num" data-metric={metric}>
                {metric}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(evaluation => (
            <tr
              key={evaluation.id}
              className="jp-mlops-clickable"
              data-testid="mlops-eval-row"
              data-evaluation={evaluation.id}
              data-version={evaluation.version}
              aria-selected={evaluation.id === props.selected}
              tabIndex={0}
              title="Show this evaluation's curves and slices"
              onClick={() => props.onSelect(evaluation.id)}
              onKeyDown={event => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  props.onSelect(evaluation.id);
                }
              }}
            >
              <td>v{evaluation.version}</td>
              <td>
                <code>
                  {evaluation.dataset}@{evaluation.dataset_version}
                </code>
              </td>
              {metrics.map(metric => (
                <td key={metric} className="jp-mlops-num" data-metric={metric}>
                  {formatNumber(evaluation.metrics[metric])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function newestPerVersionAndDataset(
  evaluations: IEvaluationSummary[]
): IEvaluationSummary[] {
  const seen = new Set<string>();
  const rows = evaluations.filter(e => {
    const key = `${e.version}/${e.dataset}@${e.dataset_version}`;
    return !seen.has(key) && seen.add(key);
  });
  return rows.sort(
    (a, b) => b.version - a.version || a.dataset.localeCompare(b.dataset)
  );
}

/**
 * Counts of actual (rows) by predicted (columns) labels, shaded by their
 * share of the actual label's rows.
 */
export function ConfusionMatrix(props: {
  matrix: IConfusionMatrix;
}): JSX.Element {
  const { labels, matrix } = props.matrix;
  return (
    <table
      className="jp-mlops-table jp-mlops-confusion"
      data-testid="mlops-confusion"
    >
      <thead>
        <tr>
          <th>actual ↓ predicted →</th>
          {labels.map(label => (
            <th key={String(label)} className="jp-mlops-num">
              {String(label)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {matrix.map((row, i) => {
          const total = row.reduce((sum, n) => sum + n, 0) || 1;
          return (
            <tr key={i}>
              <th scope="row">{String(labels[i])}</th>
              {row.map((count, j) => (
                <td
                  key={j}
                  className="jp-mlops-num jp-mlops-confusion-cell"
                  data-diagonal={i === j}
                  style={
                    {
                      '--jp-mlops-share': `${Math.round((100 * count) / total)}%`
                    } as React.CSSProperties
                  }
                >
                  {count}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * Metrics per slice (column = value), with how many rows each has.
 */
export function SliceTable(props: { slices: ISliceMetrics[] }): JSX.Element {
  const { slices } = props;
  const metrics = [...new Set(slices.flatMap(s => Object.keys(s.metrics)))];
  metrics.sort(byMetric);
  return (
    <div className="jp-mlops-table-scroll">
      <table
        className="jp-mlops-table jp-mlops-eval-table"
        data-testid="mlops-eval-slices"
      >
        <thead>
          <tr>
            <th>Slice</th>
            <th className="jp-mlops-num">Rows</th>
            {metrics.map(metric => (
              <th key={metric} className="jp-mlops-num">
                {metric}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {slices.map(slice => (
            <tr
              key={`${slice.column}=${String(slice.value)}`}
              data-testid="mlops-eval-slice"
              data-slice={`${slice.column}=${String(slice.value)}`}
            >
              <td>
                <span className="jp-mlops-meta">{slice.column}</span>{' '}
                {String(slice.value)}
              </td>
              <td className="jp-mlops-num">{slice.rows}</td>
              {metrics.map(metric => (
                <td key={metric} className="jp-mlops-num">
                  {formatNumber(slice.metrics[metric])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A short "when" cell: the age, the full time in the tooltip.
 */
export function When(props: { iso: string }): JSX.Element {
  return (
    <time dateTime={props.iso} title={props.iso}>
      {formatAge(props.iso)}
    </time>
  );
}
