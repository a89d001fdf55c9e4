import { closeIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatNumber, formatValue } from '../format';
import { IMetricDifference, IParameterDifference } from '../tokens';
import { ComparisonState } from './model';

/**
 * The parameters and metrics that differ between the two ticked runs,
 * side by side: `A` is the run that started first.
 */
export function ComparisonView(props: {
  comparison: ComparisonState;
  onClose: () => void;
}): JSX.Element | null {
  const { comparison, onClose } = props;
  if (comparison.phase === 'none') {
    return null;
  }
  return (
    <section
      className="jp-mlops-compare"
      aria-label="Run comparison"
      data-testid="mlops-compare"
      data-phase={comparison.phase}
    >
      <div className="jp-mlops-compare-header">
        <span className="jp-mlops-compare-title">Compare</span>
        <ToolbarButtonComponent
          icon={closeIcon}
          tooltip="Clear the selection"
          onClick={onClose}
        />
      </div>
      <dl className="jp-mlops-compare-runs">
        <dt>A</dt>
        <dd data-testid="mlops-compare-a">{comparison.a}</dd>
        <dt>B</dt>
        <dd data-testid="mlops-compare-b">{comparison.b}</dd>
      </dl>
      {comparison.phase === 'loading' && (
        <p className="jp-mlops-placeholder">Comparing…</p>
      )}
      {comparison.phase === 'error' && (
        <ErrorNotice
          error={comparison.error}
          title="The runs could not be compared"
          testid="mlops-compare-error"
        />
      )}
      {comparison.phase === 'ok' && (
        <>
          <ParameterTable rows={comparison.comparison.parameters} />
          <MetricTable rows={comparison.comparison.metrics} />
        </>
      )}
    </section>
  );
}

function ParameterTable(props: { rows: IParameterDifference[] }): JSX.Element {
  return (
    <DifferenceTable
      caption="Parameters"
      testid="mlops-compare-parameters"
      headings={['A', 'B']}
      rows={props.rows.map(row => ({
        ...row,
        cells: [formatValue(row.a), formatValue(row.b)]
      }))}
    />
  );
}

function MetricTable(props: { rows: IMetricDifference[] }): JSX.Element {
  return (
    <DifferenceTable
      caption="Metrics"
      testid="mlops-compare-metrics"
      headings={['A', 'B', 'Δ']}
      rows={props.rows.map(row => ({
        ...row,
        cells: [
          formatNumber(row.a),
          formatNumber(row.b),
          formatDelta(row.delta)
        ]
      }))}
    />
  );
}

/**
 * A difference `b - a`, signed: `+4`, `-0.25`, `–` when either is missing.
 */
function formatDelta(delta: number | null | undefined): string {
  if (delta === null || delta === undefined) {
    return '–';
  }
  return `${delta > 0 ? '+' : ''}${formatNumber(delta)}`;
}

/**
 * A table of values that differ, one row per stage and name.
 */
function DifferenceTable(props: {
  caption: string;
  testid: string;
  headings: string[];
  rows: { stage: string; name: string; cells: string[] }[];
}): JSX.Element {
  const { headings, rows } = props;
  return (
    <table className="jp-mlops-table" data-testid={props.testid}>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          {headings.map(heading => (
            <th
              key={heading}
              scope="col"
              title={heading === 'Δ' ? 'B − A' : undefined}
            >
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={headings.length + 1} className="jp-mlops-table-empty">
              No differences
            </td>
          </tr>
        )}
        {rows.map(row => (
          <tr key={`${row.stage}.${row.name}`} data-name={row.name}>
            <QualifiedName stage={row.stage} name={row.name} />
            {row.cells.map((cell, i) => (
              <td key={i} className="jp-mlops-num" data-column={headings[i]}>
                {cell}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function QualifiedName(props: { stage: string; name: string }): JSX.Element {
  return (
    <th scope="row" title={`${props.name} in stage ${props.stage}`}>
      {props.name}
      {props.stage && (
        <span className="jp-mlops-table-stage">{props.stage}</span>
      )}
    </th>
  );
}
