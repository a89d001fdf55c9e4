import { closeIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { OpenInTab } from '../openInTab';
import {
  formatDelta,
  formatMetric,
  formatRelativeChange,
  formatValue
} from '../format';
import { IMetricDifference, IParameterDifference } from './types';
import { ComparisonState } from './model';

/**
 * The parameters and metrics that differ between the two ticked runs,
 * side by side: `A` is the run that started first.
 */
export function ComparisonView(props: {
  comparison: ComparisonState;
  onClose?: () => void;
  onOpenTab?: (a: string, b: string) => void;
}): JSX.Element | null {
  const { comparison, onClose, onOpenTab } = props;
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
        {onOpenTab && (
          <OpenInTab
            testid="mlops-compare-open-tab"
            tooltip="Open this comparison in a main-area tab"
            onClick={() => onOpenTab(comparison.a, comparison.b)}
          />
        )}
        {onClose && (
          <ToolbarButtonComponent
            icon={closeIcon}
            tooltip="Clear the selection"
            onClick={onClose}
          />
        )}
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
          formatMetric(row.a),
          formatMetric(row.b),
          <Delta key="delta" row={row} />
        ]
      }))}
    />
  );
}

/**
 * `b - a`, formatted, coloured better or worse by the metric's direction
 * (the server reads it from the name: a loss, error or latency improves
 * downwards), with an arrow (CSS) so it reads without colour; the relative
 * change and the direction in its tooltip.
 */
function Delta(props: { row: IMetricDifference }): JSX.Element {
  const { row } = props;
  const change = row.change ?? null;
  const direction =
    row.higher_is_better === false ? 'lower is better' : 'higher is better';
  const relative = formatRelativeChange(row.delta, row.a);
  const verdict =
    change === 'better' || change === 'worse' ? `B is ${change} than A` : '';
  const title = [verdict, relative && `${relative} from A`, direction]
    .filter(Boolean)
    .join(' · ');
  return (
    <span
      className="jp-mlops-delta"
      data-change={change ?? 'none'}
      data-testid="mlops-delta"
      title={title}
      aria-label={`${formatDelta(row.delta)} ${verdict}`.trim()}
    >
      {formatDelta(row.delta)}
    </span>
  );
}

/**
 * A table of values that differ, one row per stage and name.
 */
function DifferenceTable(props: {
  caption: string;
  testid: string;
  headings: string[];
  rows: { stage: string; name: string; cells: React.ReactNode[] }[];
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
