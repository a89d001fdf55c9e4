import * as React from 'react';

import { formatDateTime } from '../format';
import { ICheckSummary, IDataCheck, IDatasetChecks } from './types';

/**
 * A dataset version's data checks in one word: `checks passed` or
 * `n failed` (nothing when it was never checked).
 */
export function CheckBadge(props: {
  summary?: ICheckSummary | IDatasetChecks | null;
  testid?: string;
}): JSX.Element | null {
  const { summary } = props;
  if (!summary || summary.status === 'unchecked') {
    return null;
  }
  const failed = summary.status === 'failed';
  const names =
    'failing' in summary
      ? summary.failing
      : summary.checks.filter(c => !c.passed).map(c => c.name);
  const title = failed
    ? `Data checks failed: ${names.join(', ')}`
    : `All ${summary.passed} data checks passed`;
  return (
    <span
      className="jp-mlops-fv-verdict jp-mlops-datacheck-badge"
      data-verdict={failed ? 'failed' : 'passed'}
      data-testid={props.testid ?? 'mlops-check-badge'}
      title={title}
    >
      {failed ? `${summary.failed} failed` : 'checks passed'}
    </span>
  );
}

/**
 * Every data check of a dataset version, failing ones first, each failing
 * one with the rows that break it (a sample, with their row numbers).
 */
export function DataChecks(props: { checks: IDatasetChecks }): JSX.Element {
  const { checks } = props;
  if (checks.status === 'unchecked') {
    return (
      <p className="jp-mlops-placeholder" data-testid="mlops-checks-none">
        {checks.dataset}@{checks.version} was not checked: declare checks under{' '}
        <code>datasets: {checks.dataset}: checks:</code> in{' '}
        <code>mlops_lab.yaml</code>, then run{' '}
        <code>mlops-lab datasets check {checks.dataset}</code>.
      </p>
    );
  }
  const ordered = [
    ...checks.checks.filter(c => !c.passed),
    ...checks.checks.filter(c => c.passed)
  ];
  return (
    <div className="jp-mlops-datachecks" data-testid="mlops-checks">
      <p className="jp-mlops-section-detail">
        <code>
          {checks.dataset}@{checks.version}
        </code>
        : {checks.passed} passed, {checks.failed} failed
        {checks.checked_at && ` · checked ${formatDateTime(checks.checked_at)}`}
      </p>
      <ul className="jp-mlops-datachecks-list" aria-label="Data checks">
        {ordered.map(check => (
          <CheckItem key={check.name} check={check} />
        ))}
      </ul>
    </div>
  );
}

function CheckItem(props: { check: IDataCheck }): JSX.Element {
  const { check } = props;
  return (
    <li
      className="jp-mlops-datacheck"
      data-passed={check.passed}
      data-check={check.name}
    >
      <div className="jp-mlops-datacheck-head">
        <span
          className="jp-mlops-datacheck-mark"
          aria-label={check.passed ? 'passed' : 'failed'}
        >
          {check.passed ? '✓' : '✗'}
        </span>
        <code className="jp-mlops-datacheck-name">{check.name}</code>
        <span className="jp-mlops-datacheck-message">{check.message}</span>
      </div>
      {!check.passed && check.sample.length > 0 && <SampleRows check={check} />}
    </li>
  );
}

/**
 * The sampled rows of a failing check as a small table (its column first).
 */
function SampleRows(props: { check: IDataCheck }): JSX.Element {
  const { check } = props;
  const first = check.sample[0].values;
  const columns = Object.keys(first);
  if (check.column && columns.includes(check.column)) {
    columns.splice(columns.indexOf(check.column), 1);
    columns.unshift(check.column);
  }
  const more = (check.failing_rows ?? 0) - check.sample.length;
  return (
    <div className="jp-mlops-table-scroll">
      <table
        className="jp-mlops-table jp-mlops-datacheck-sample"
        data-testid="mlops-check-sample"
      >
        <thead>
          <tr>
            <th scope="col" className="jp-mlops-num">
              row
            </th>
            {columns.map(c => (
              <th
                scope="col"
                key={c}
                data-checked={c === check.column || undefined}
              >
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {check.sample.map(row => (
            <tr key={row.row}>
              <td className="jp-mlops-num">{row.row}</td>
              {columns.map(c => (
                <td key={c} data-checked={c === check.column || undefined}>
                  {formatCell(row.values[c])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {more > 0 && (
        <p className="jp-mlops-section-detail">
          and {more.toLocaleString()} more row{more === 1 ? '' : 's'}
        </p>
      )}
    </div>
  );
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) {
    return 'null';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
