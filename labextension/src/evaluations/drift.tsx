import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatAge, formatNumber, formatShare } from '../format';
import { DriftHistogram } from './charts';
import { formatP } from './decisions';
import { SortKey, sortColumns } from './sorting';
import { IDriftReport, IDriftSummary } from './types';

const HEADERS: { key: SortKey; label: string; title: string }[] = [
  { key: 'column', label: 'Column', title: 'Sort by column name' },
  { key: 'test', label: 'Test', title: 'ks: Kolmogorov–Smirnov, chi2: χ²' },
  { key: 'statistic', label: 'Stat', title: 'Test statistic' },
  {
    key: 'p_adjusted',
    label: 'p adj.',
    title: 'p-value adjusted for testing many columns'
  },
  {
    key: 'effect_size',
    label: 'Effect',
    title:
      'Normalized Wasserstein distance (numeric) or Jensen–Shannon (categorical)'
  },
  { key: 'psi', label: 'PSI', title: 'Population stability index' },
  { key: 'drifted', label: 'Drift', title: 'Drifted columns first' }
];

/**
 * The chosen drift report: its verdict, a per-column table of tests and
 * effect sizes, and the selected column's histograms.
 */
export function DriftReport(props: {
  reports: IDriftSummary[];
  report: IDriftReport;
  column: string | null;
  onReport: (id: string) => void;
  onColumn: (column: string) => void;
}): JSX.Element {
  const { report, column } = props;
  const [sort, setSort] = React.useState<{ key: SortKey; desc: boolean }>({
    key: 'drifted',
    desc: false
  });
  const columns = sortColumns(report.columns, sort.key, sort.desc);
  const shown = report.columns.find(c => c.column === column) ?? null;
  return (
    <div
      className="jp-mlops-drift"
      data-testid="mlops-drift"
      data-report={report.id}
      data-verdict={report.verdict}
    >
      {props.reports.length > 1 && (
        <HTMLSelect
          aria-label="Drift report"
          data-testid="mlops-drift-report"
          value={report.id}
          onChange={event => props.onReport(event.currentTarget.value)}
          options={props.reports.map(r => ({
            value: r.id,
            label: `${r.current} vs ${r.reference} · ${formatAge(r.created_at)}`
          }))}
        />
      )}
      <p className="jp-mlops-drift-verdict" data-testid="mlops-drift-verdict">
        <span className="jp-mlops-decision" data-decision={report.verdict}>
          {report.verdict}
        </span>{' '}
        <span data-testid="mlops-drift-counts">{report.counts.summary}</span> in{' '}
        <code>{report.current}</code> against <code>{report.reference}</code>
        {report.model && (
          <>
            {' '}
            for <code>{report.model}</code>
          </>
        )}{' '}
        <span className="jp-mlops-meta">
          ({formatShare(report.counts.share)} of the feature columns)
        </span>
        {report.counts.prediction_checked && (
          <span
            className="jp-mlops-meta"
            data-testid="mlops-drift-prediction"
            data-drifted={report.counts.prediction_drifted}
          >
            {' '}
            · the predictions{' '}
            {report.counts.prediction_drifted ? 'drifted' : 'did not drift'}
          </span>
        )}
      </p>
      <div className="jp-mlops-table-scroll">
        <table
          className="jp-mlops-table jp-mlops-drift-table"
          data-testid="mlops-drift-table"
        >
          <thead>
            <tr>
              {HEADERS.map(h => (
                <th
                  key={h.key}
                  className={
                    h.key === 'column' || h.key === 'test' ? '' : 'jp-mlops-num'
                  }
                  aria-sort={
                    sort.key === h.key
                      ? sort.desc
                        ? 'descending'
                        : 'ascending'
                      : 'none'
                  }
                >
                  <button
                    type="button"
                    className="jp-mlops-sort"
                    title={h.title}
                    data-sort={h.key}
                    onClick={() =>
                      setSort({
                        key: h.key,
                        desc: sort.key === h.key ? !sort.desc : false
                      })
                    }
                  >
                    {h.label}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {columns.map(c => (
              <tr
                key={c.column}
                className="jp-mlops-clickable"
                data-testid="mlops-drift-row"
                data-column={c.column}
                data-drifted={c.drifted}
                aria-selected={c.column === column}
                tabIndex={0}
                title="Show this column's histograms"
                onClick={() => props.onColumn(c.column)}
                onKeyDown={event => {
                  if (event.key === 'Enter' || event.key === ' ') {
                    event.preventDefault();
                    props.onColumn(c.column);
                  }
                }}
              >
                <td className="jp-mlops-drift-column">{c.column}</td>
                <td>{c.test}</td>
                <td className="jp-mlops-num">
                  {formatNumber(round(c.statistic))}
                </td>
                <td className="jp-mlops-num" data-testid="mlops-drift-p">
                  {formatP(c.p_adjusted)}
                </td>
                <td className="jp-mlops-num" title={c.effect}>
                  {formatNumber(round(c.effect_size))}
                </td>
                <td className="jp-mlops-num">{formatNumber(round(c.psi))}</td>
                <td className="jp-mlops-num">
                  <span
                    className="jp-mlops-drift-flag"
                    data-drifted={c.drifted}
                    title={
                      c.drifted
                        ? `p adj. < ${c.alpha} and effect ≥ ${c.effect_floor}`
                        : 'No drift'
                    }
                  >
                    {c.drifted ? 'yes' : 'no'}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown?.histogram ? (
        <DriftHistogram column={shown.column} histogram={shown.histogram} />
      ) : (
        shown && (
          <p className="jp-mlops-placeholder">
            No histogram was kept for {shown.column}.
          </p>
        )
      )}
    </div>
  );
}

function round(value: number | null): number | null {
  return value === null ? null : Number(value.toPrecision(3));
}
