import * as React from 'react';

import { formatNumber } from '../format';
import {
  CHECKS,
  FindingStatus,
  HandoffStatus,
  IFinding,
  IHandoff,
  IMetricComparison,
  IMetricDifference,
  IOutputDifference
} from './types';
import { CellLink, Differences, SIDES } from './differences';

/**
 * What a result means, for tooltips and screen readers.
 */
const RESULTS: Record<FindingStatus | 'skipped', string> = {
  pass: 'Pass',
  warn: 'Warning',
  fail: 'Fail',
  skipped: 'Not checked'
};

const STATUSES: Record<HandoffStatus, string> = {
  ready: 'Ready: every check passed (warnings aside); it can run as a stage',
  failing: 'Failing: a check failed',
  stale: 'Stale: the notebook changed since it was checked'
};

/**
 * Checks that run only after a clean run succeeded.
 */
const AFTER_CLEAN_RUN = new Set(['outputs', 'reproduction', 'determinism']);

const RANK: Record<FindingStatus, number> = { pass: 0, warn: 1, fail: 2 };

/**
 * A finding's result as a small coloured circle with a glyph.
 */
export function ResultIcon(props: {
  result: FindingStatus | 'skipped';
}): JSX.Element {
  const { result } = props;
  const label = RESULTS[result];
  return (
    <span
      className="jp-mlops-handoff-result"
      data-result={result}
      title={label}
      role="img"
      aria-label={label}
    >
      <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        <circle className="jp-mlops-handoff-result-disc" cx="8" cy="8" r="7" />
        <g className="jp-mlops-handoff-result-glyph">
          {result === 'pass' && <path d="M4.5 8.2 7 10.6l4.6-5" />}
          {result === 'fail' && <path d="m5.5 5.5 5 5m0-5-5 5" />}
          {result === 'warn' && <path d="M8 4.4v4.6M8 11.4v.2" />}
          {result === 'skipped' && <path d="M5 8h6" />}
        </g>
      </svg>
    </span>
  );
}

/**
 * ready (green), failing (red) or stale (amber).
 */
export function StatusBadge(props: { status: HandoffStatus }): JSX.Element {
  const { status } = props;
  return (
    <span
      className="jp-mlops-handoff-badge"
      data-handoff-status={status}
      data-testid="mlops-handoff-status"
      title={STATUSES[status]}
    >
      {status}
    </span>
  );
}

/**
 * How many findings passed, warned and failed.
 */
export function Counts(props: {
  counts: Record<FindingStatus, number>;
}): JSX.Element {
  const results: FindingStatus[] = ['pass', 'warn', 'fail'];
  return (
    <span className="jp-mlops-handoff-counts" aria-label="Findings">
      {results.map(result => (
        <span
          key={result}
          className="jp-mlops-handoff-count"
          data-result={result}
          data-zero={props.counts[result] === 0 ? 'yes' : 'no'}
          data-testid="mlops-handoff-count"
          title={`${props.counts[result]} ${RESULTS[result].toLowerCase()}`}
        >
          <ResultIcon result={result} />
          <span className="jp-mlops-handoff-count-n">
            {props.counts[result]}
          </span>
        </span>
      ))}
    </span>
  );
}

/**
 * The actions a finding offers (the fix of a missing parameters cell).
 */
export interface IFindingActions {
  onAddParameters?: () => void;
  addingParameters?: boolean;
}

/**
 * The findings grouped by check, in the order the checks run; the checks
 * that did not run (after a failed clean run) are listed as not checked.
 */
export function Findings(
  props: {
    handoff: IHandoff;
    onCell: (cell: number) => void;
    opening: (cell: number) => boolean;
  } & IFindingActions
): JSX.Element {
  const { handoff, onCell, opening } = props;
  const groups = new Map<string, IFinding[]>();
  for (const check of CHECKS) {
    groups.set(check, []);
  }
  for (const finding of handoff.findings) {
    groups.set(finding.check, [...(groups.get(finding.check) ?? []), finding]);
  }
  const cleanRunFailed = handoff.findings.some(
    f => f.check === 'clean_run' && f.status === 'fail'
  );
  return (
    <ol
      className="jp-mlops-handoff-findings"
      data-testid="mlops-handoff-findings"
    >
      {[...groups.entries()].map(([check, findings]) => {
        if (!findings.length) {
          return cleanRunFailed && AFTER_CLEAN_RUN.has(check) ? (
            <NotChecked key={check} check={check} />
          ) : null;
        }
        const worst = findings.reduce<FindingStatus>(
          (w, f) => (RANK[f.status] > RANK[w] ? f.status : w),
          'pass'
        );
        return (
          <li
            key={check}
            className="jp-mlops-handoff-check"
            data-check={check}
            data-result={worst}
            data-testid="mlops-handoff-check"
          >
            <div className="jp-mlops-handoff-check-head">
              <ResultIcon result={worst} />
              <span className="jp-mlops-handoff-check-title">
                {findings[0].title}
              </span>
            </div>
            <ul className="jp-mlops-handoff-check-findings">
              {findings.map((finding, i) => (
                <FindingRow
                  key={i}
                  finding={finding}
                  marked={findings.length > 1}
                  onCell={onCell}
                  opening={opening}
                  onAddParameters={props.onAddParameters}
                  addingParameters={props.addingParameters}
                />
              ))}
            </ul>
          </li>
        );
      })}
    </ol>
  );
}

function NotChecked(props: { check: string }): JSX.Element {
  const label = props.check.replace('_', ' ');
  return (
    <li
      className="jp-mlops-handoff-check"
      data-check={props.check}
      data-result="skipped"
      data-testid="mlops-handoff-check"
    >
      <div className="jp-mlops-handoff-check-head">
        <ResultIcon result="skipped" />
        <span className="jp-mlops-handoff-check-title">
          {label[0].toUpperCase() + label.slice(1)}
        </span>
      </div>
      <p className="jp-mlops-handoff-message jp-mlops-placeholder">
        Not checked: the clean run failed.
      </p>
    </li>
  );
}

function FindingRow(
  props: {
    finding: IFinding;
    marked: boolean;
    onCell: (cell: number) => void;
    opening: (cell: number) => boolean;
  } & IFindingActions
): JSX.Element {
  const { finding, onCell, opening, onAddParameters } = props;
  const { cell } = finding;
  const fix =
    finding.check === 'parameters' &&
    finding.details.fix === 'add_parameters' &&
    onAddParameters;
  const message = (
    <span className="jp-mlops-handoff-message">
      {finding.message}
      {cell !== null && (
        <>
          {' '}
          <CellLink
            cell={cell}
            testId="mlops-handoff-cell"
            onCell={onCell}
            opening={opening}
          />
        </>
      )}
      {fix && (
        <>
          {' '}
          <button
            type="button"
            className="jp-mlops-link jp-mlops-handoff-fix"
            data-testid="mlops-handoff-add-parameters"
            title={
              "Move the first code cell's literal assignments into a new " +
              "cell tagged 'parameters' (the notebook is changed on disk " +
              'and reloaded; check it again afterwards)'
            }
            disabled={!!props.addingParameters}
            onClick={() => fix()}
          >
            Add a parameters cell
          </button>
        </>
      )}
    </span>
  );
  const sides = SIDES[finding.check];
  const cells = (finding.details.cells ?? []) as IOutputDifference[];
  const metrics = (finding.details.metrics ?? []) as IMetricDifference[];
  const differs =
    sides !== undefined &&
    Array.isArray(cells) &&
    Array.isArray(metrics) &&
    (cells.length > 0 || (sides[0] === 'run1' && metrics.length > 0));
  return (
    <li
      className="jp-mlops-handoff-finding"
      data-result={finding.status}
      data-cell={cell ?? ''}
      data-testid="mlops-handoff-finding"
    >
      {props.marked && <ResultIcon result={finding.status} />}
      {differs ? (
        <div className="jp-mlops-handoff-finding-body">
          {message}
          <Differences
            check={finding.check}
            cells={cells}
            metrics={sides[0] === 'run1' ? metrics : []}
            onCell={onCell}
            opening={opening}
          />
        </div>
      ) : (
        message
      )}
    </li>
  );
}

/**
 * The metrics of the last interactive run against the clean run's.
 */
export function MetricsComparison(props: {
  handoff: IHandoff;
}): JSX.Element | null {
  const finding = props.handoff.findings.find(f => f.check === 'reproduction');
  const rows = (finding?.details.metrics ?? []) as IMetricComparison[];
  if (!Array.isArray(rows) || !rows.length) {
    return null;
  }
  const run = finding?.details.interactive_run;
  return (
    <section className="jp-mlops-handoff-section" aria-label="Metrics">
      <h4 className="jp-mlops-handoff-section-title">Metrics</h4>
      {typeof run === 'string' && (
        <p className="jp-mlops-handoff-hint">
          Interactive run <code>{run}</code> against the clean run.
        </p>
      )}
      <table
        className="jp-mlops-handoff-table"
        data-testid="mlops-handoff-metrics"
      >
        <thead>
          <tr>
            <th>metric</th>
            <th className="jp-mlops-num">interactive</th>
            <th className="jp-mlops-num">clean run</th>
            <th className="jp-mlops-handoff-same">same</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <tr
              key={row.metric}
              data-metric={row.metric}
              data-same={row.same ? 'yes' : 'no'}
              data-testid="mlops-handoff-metric"
            >
              <td>{row.metric}</td>
              <td className="jp-mlops-num">{formatNumber(row.interactive)}</td>
              <td className="jp-mlops-num">{formatNumber(row.clean)}</td>
              <td className="jp-mlops-handoff-same">
                <ResultIcon result={row.same ? 'pass' : 'fail'} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
