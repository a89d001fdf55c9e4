import * as React from 'react';

import { formatNumber, formatShare } from '../format';
import { Decided, When } from '../components';
import { IAbTest, IComparison } from './types';

/**
 * A signed number to 3 significant digits: `+0.0123`, `-1.5`, `0`.
 */
function signed(n: number, scale = 1): string {
  const value = Number((n * scale).toPrecision(3));
  return (value > 0 ? '+' : '') + String(value);
}

/**
 * `+0.012 [-0.003, +0.027]`: a difference with its confidence interval;
 * `unit` `pp` shows rates' differences in percentage points.
 */
export function Difference(props: {
  value: number;
  low: number;
  high: number;
  unit?: 'pp';
}): JSX.Element {
  const scale = props.unit === 'pp' ? 100 : 1;
  const unit = props.unit ? ` ${props.unit}` : '';
  const excludesZero = props.low > 0 || props.high < 0;
  return (
    <span
      className="jp-mlops-difference"
      data-significant={excludesZero}
      data-testid="mlops-difference"
      title={`Difference ${props.value} (CI ${props.low} to ${props.high})`}
    >
      <span className="jp-mlops-num">
        {signed(props.value, scale)}
        {unit}
      </span>{' '}
      <span className="jp-mlops-ci">
        [{signed(props.low, scale)}, {signed(props.high, scale)}]
      </span>
    </span>
  );
}

/**
 * A p-value to 2 significant digits, `<1e-6` below that.
 */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined) {
    return '–';
  }
  return p < 1e-6 ? '<1e-6' : String(Number(p.toPrecision(2)));
}

/**
 * Gate decisions: candidate against baseline, the difference with its
 * confidence interval, the decision and why.
 */
export function Comparisons(props: {
  comparisons: IComparison[];
}): JSX.Element {
  return (
    <ul className="jp-mlops-cards" data-testid="mlops-comparisons">
      {props.comparisons.map(c => (
        <li
          key={c.id}
          className="jp-mlops-card"
          data-testid="mlops-comparison"
          data-decision={c.decision}
        >
          <div className="jp-mlops-card-head">
            <span>
              v{c.baseline} → <strong>v{c.candidate}</strong>{' '}
              <span className="jp-mlops-meta">
                {c.metric} on {c.dataset}@{c.dataset_version}
              </span>
            </span>
            <span
              className="jp-mlops-decision"
              data-decision={c.decision}
              data-testid="mlops-decision"
            >
              {c.decision}
            </span>
          </div>
          <div className="jp-mlops-meta">
            {formatNumber(c.baseline_value)} → {formatNumber(c.candidate_value)}
            :{' '}
            <Difference value={c.difference} low={c.ci_low} high={c.ci_high} />{' '}
            ({formatShare(c.confidence)} CI, {c.n_boot} resamples, needs +
            {formatNumber(c.min_improvement)}) · <When iso={c.created_at} />
          </div>
          <p
            className="jp-mlops-card-reason"
            data-testid="mlops-decision-reason"
          >
            {c.reason}
          </p>
        </li>
      ))}
    </ul>
  );
}

/**
 * A/B tests: the outcome per variant, and each variant against control.
 * Active tests first; a closed (archived) one says who closed it and why.
 */
export function AbTests(props: {
  tests: IAbTest[];
  onClose: (test: IAbTest) => void;
}): JSX.Element {
  const tests = [...props.tests].sort(
    (a, b) => Number(a.status === 'closed') - Number(b.status === 'closed')
  );
  return (
    <ul className="jp-mlops-cards" data-testid="mlops-ab-tests">
      {tests.map(test => {
        const byVariant = new Map(test.comparisons.map(c => [c.variant, c]));
        const format = (v: number) =>
          test.kind === 'rate' ? formatShare(v) : formatNumber(v);
        return (
          <li
            key={test.id}
            className="jp-mlops-card"
            data-testid="mlops-ab-test"
            data-test={test.name}
            data-status={test.status}
          >
            <div className="jp-mlops-card-head">
              <strong>{test.name}</strong>
              <span className="jp-mlops-card-actions">
                <When iso={test.created_at} />
                {test.status === 'closed' ? (
                  <span className="jp-mlops-eval-state" data-status="closed">
                    closed
                  </span>
                ) : (
                  <button
                    type="button"
                    className="jp-mlops-eval-action"
                    data-testid="mlops-ab-close"
                    title="Close (archive) this test, saying why"
                    onClick={() => props.onClose(test)}
                  >
                    Close…
                  </button>
                )}
              </span>
            </div>
            {test.status === 'closed' && (
              <Decided
                verb="Closed"
                by={test.closed_by}
                at={test.closed_at}
                reason={test.close_reason}
                testid="mlops-ab-closed"
              />
            )}
            <div className="jp-mlops-meta">
              {test.kind} of <code>{test.outcome}</code> by{' '}
              <code>{test.variant_column}</code> on {test.dataset}@
              {test.dataset_version}
            </div>
            <div className="jp-mlops-table-scroll">
              <table className="jp-mlops-table jp-mlops-ab-table">
                <thead>
                  <tr>
                    <th>Variant</th>
                    <th className="jp-mlops-num">n</th>
                    <th className="jp-mlops-num">{test.kind}</th>
                    <th>vs {test.control}</th>
                    <th className="jp-mlops-num">p</th>
                  </tr>
                </thead>
                <tbody>
                  {test.variants.map(v => {
                    const c = byVariant.get(v.variant);
                    return (
                      <tr key={v.variant} data-testid="mlops-ab-variant">
                        <td>
                          {v.variant}
                          {v.variant === test.control && (
                            <span className="jp-mlops-meta"> (control)</span>
                          )}
                        </td>
                        <td className="jp-mlops-num">{v.n}</td>
                        <td className="jp-mlops-num">{format(v.value)}</td>
                        <td>
                          {c ? (
                            <Difference
                              value={c.difference}
                              low={c.ci_low}
                              high={c.ci_high}
                              unit={test.kind === 'rate' ? 'pp' : undefined}
                            />
                          ) : (
                            '–'
                          )}
                        </td>
                        <td className="jp-mlops-num">
                          {c ? formatP(c.p_value) : '–'}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
