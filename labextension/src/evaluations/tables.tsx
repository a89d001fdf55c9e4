import * as React from 'react';

import { byMetric, formatNumber } from '../format';
import { WideTable } from '../widetable';
import { IConfusionMatrix, ISliceMetrics } from './types';
import { IVersionRow } from './versions';

/**
 * Every metric of the model's versions on each dataset version: a row per
 * version and dataset version (the newest evaluation of each, and what gate
 * decisions measured), grouped by dataset so versions are compared on the
 * same data. An evaluation's row shows that evaluation below.
 */
export function MetricsTable(props: {
  rows: IVersionRow[];
  selected: string | null;
  onSelect: (id: string) => void;
}): JSX.Element {
  const { rows } = props;
  const metrics = [...new Set(rows.flatMap(e => Object.keys(e.metrics)))];
  metrics.sort(byMetric);
  return (
    <WideTable
      columns={metrics.length + 2}
      label="Metrics by version and dataset"
      first="4.5em"
      className="jp-mlops-eval-table"
      testid="mlops-eval-metrics"
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
        {rows.map(row => {
          const id = row.evaluationId;
          const gates = row.gates.length
            ? `Measured by gate decision ${row.gates.join(', ')}`
            : '';
          return (
            <tr
              key={row.key}
              className={
                id === null ? 'jp-mlops-eval-row-gate' : 'jp-mlops-clickable'
              }
              data-testid={
                id === null ? 'mlops-eval-gate-row' : 'mlops-eval-row'
              }
              data-evaluation={id ?? undefined}
              data-version={row.version}
              data-dataset={`${row.dataset}@${row.datasetVersion}`}
              data-gates={row.gates.join(' ') || undefined}
              aria-selected={id !== null && id === props.selected}
              tabIndex={id === null ? undefined : 0}
              title={
                id === null
                  ? `${gates} (no evaluation stored on this data)`
                  : [gates, "Show this evaluation's curves and slices"]
                      .filter(Boolean)
                      .join(' · ')
              }
              onClick={id === null ? undefined : () => props.onSelect(id)}
              onKeyDown={
                id === null
                  ? undefined
                  : event => {
                      if (event.key === 'Enter' || event.key === ' ') {
                        event.preventDefault();
                        props.onSelect(id);
                      }
                    }
              }
            >
              <td>v{row.version}</td>
              <td>
                <code>
                  {row.dataset}@{row.datasetVersion}
                </code>
              </td>
              {metrics.map(metric => (
                <td key={metric} className="jp-mlops-num" data-metric={metric}>
                  {formatNumber(row.metrics[metric])}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </WideTable>
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
    <WideTable
      columns={metrics.length + 2}
      label="Metrics by slice"
      first="8em"
      className="jp-mlops-eval-table"
      testid="mlops-eval-slices"
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
    </WideTable>
  );
}
