import * as React from 'react';

import { ActionFeedback, ErrorNotice, plural } from '../components';
import { formatDateTime, formatShare } from '../format';
import {
  ConsistencyVerdict,
  IConsistencyExample,
  IConsistencyReport
} from './types';
import { JSONValue } from '../tokens';
import { FeaturesModel, IConsistencyState } from './model';

/**
 * Mismatching served values shown per report.
 */
const MAX_EXAMPLES = 4;

const VERDICTS: Record<ConsistencyVerdict, string> = {
  consistent: 'Every served value matches the offline store',
  mismatch: 'Some served values differ from the offline store',
  'no data': 'No logged prediction used this view'
};

/**
 * The latest verdict, for the section's heading.
 */
export function VerdictBadge(props: {
  verdict: ConsistencyVerdict;
  testid?: string;
}): JSX.Element {
  const { verdict } = props;
  return (
    <span
      className="jp-mlops-fv-verdict"
      data-verdict={verdict}
      data-testid={props.testid ?? 'mlops-consistency-verdict'}
      title={VERDICTS[verdict]}
    >
      {verdict}
    </span>
  );
}

/**
 * Online/offline consistency of a view: the latest report (features
 * checked, mismatches, examples), the older ones, and "Check now".
 */
export function Consistency(props: {
  model: FeaturesModel;
  consistency: IConsistencyState;
}): JSX.Element {
  const { model, consistency } = props;
  const [latest, ...older] = consistency.reports;
  return (
    <div className="jp-mlops-fv-consistency">
      <div className="jp-mlops-fv-consistency-actions">
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-consistency-check"
          title="Recompute the values model servers served, offline as of the times they were served, and compare"
          disabled={consistency.checking || consistency.view === null}
          onClick={() => void model.checkConsistency()}
        >
          {consistency.checking ? 'Checking…' : 'Check now'}
        </button>
      </div>
      <ActionFeedback
        actionError={consistency.actionError}
        notice={null}
        testid="mlops-consistency"
        onDismiss={() => model.dismissConsistencyError()}
      />
      {consistency.error && (
        <ErrorNotice
          error={consistency.error}
          title="The consistency reports could not be loaded"
          testid="mlops-consistency-error"
        />
      )}
      {!latest && consistency.loading && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {!latest && consistency.loaded && (
        <p
          className="jp-mlops-placeholder"
          data-testid="mlops-consistency-empty"
        >
          No consistency check yet: model servers log the values they serve;
          Check now compares them with the offline store.
        </p>
      )}
      {latest && <Report report={latest} />}
      {older.length > 0 && <OlderReports reports={older} />}
    </div>
  );
}

/**
 * One report in full: verdict, counts, features and examples.
 */
function Report(props: { report: IConsistencyReport }): JSX.Element {
  const { report } = props;
  // Features with mismatches first, then by name.
  const features = [...report.features].sort(
    (a, b) => b.mismatches - a.mismatches || a.feature.localeCompare(b.feature)
  );
  const examples = features
    .flatMap(f => f.examples.map(example => ({ feature: f.feature, example })))
    .slice(0, MAX_EXAMPLES);
  return (
    <div
      className="jp-mlops-fv-report"
      data-testid="mlops-consistency-latest"
      data-verdict={report.verdict}
    >
      <div className="jp-mlops-fv-report-head">
        <VerdictBadge verdict={report.verdict} />
        {report.created_at && (
          <span className="jp-mlops-fv-report-when">
            checked{' '}
            <time dateTime={report.created_at} title={report.created_at}>
              {formatDateTime(report.created_at)}
            </time>
          </span>
        )}
      </div>
      <dl className="jp-mlops-facts" data-testid="mlops-consistency-facts">
        <dt>Rows checked</dt>
        <dd data-fact="rows_checked">{report.rows_checked.toLocaleString()}</dd>
        <dt>Mismatches</dt>
        <dd data-fact="mismatches">{report.mismatches.toLocaleString()}</dd>
        {report.versions && report.versions.length > 0 && (
          <>
            <dt>{plural(report.versions.length, 'Version')}</dt>
            <dd data-fact="versions">
              {report.versions.map(v => `v${v}`).join(', ')}
            </dd>
          </>
        )}
        {report.since && (
          <>
            <dt>Since</dt>
            <dd data-fact="since">{formatDateTime(report.since)}</dd>
          </>
        )}
        {report.alert && (
          <>
            <dt>Alert</dt>
            <dd data-fact="alert">
              <code>{report.alert}</code>
            </dd>
          </>
        )}
      </dl>
      {report.verdict === 'no data' && (
        <p className="jp-mlops-fv-report-hint">
          No logged prediction used this view
          {report.since ? ' since then' : ''}: model servers log the values they
          serve with <code>mlops-lab serve</code>.
        </p>
      )}
      {features.length > 0 && (
        <div className="jp-mlops-table-scroll">
          <table
            className="jp-mlops-table jp-mlops-fv-report-table"
            data-testid="mlops-consistency-features"
          >
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col" className="jp-mlops-num">
                  Checked
                </th>
                <th scope="col" className="jp-mlops-num" title="Mismatches">
                  {'Mis\u00admatches'}
                </th>
                <th scope="col" className="jp-mlops-num">
                  Rate
                </th>
              </tr>
            </thead>
            <tbody>
              {features.map(f => (
                <tr
                  key={f.feature}
                  data-feature={f.feature}
                  data-mismatch={f.mismatches > 0}
                >
                  <th scope="row" title={f.feature}>
                    {breakable(f.feature)}
                  </th>
                  <td className="jp-mlops-num">{f.checked.toLocaleString()}</td>
                  <td className="jp-mlops-num">
                    {f.mismatches.toLocaleString()}
                  </td>
                  <td className="jp-mlops-num">{formatShare(f.rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {examples.length > 0 && (
        <ul
          className="jp-mlops-fv-examples"
          aria-label="Examples"
          data-testid="mlops-consistency-examples"
        >
          {examples.map(({ feature, example }, i) => (
            <Example key={i} feature={feature} example={example} />
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * A served value and the offline one it differs from.
 */
function Example(props: {
  feature: string;
  example: IConsistencyExample;
}): JSX.Element {
  const { feature, example } = props;
  const entity = Object.entries(example.entity)
    .map(([key, value]) => `${key}=${showValue(value)}`)
    .join(', ');
  return (
    <li data-testid="mlops-consistency-example" data-feature={feature}>
      <div className="jp-mlops-fv-example-head">
        <code>{feature}</code>
        <span>{entity}</span>
        <span>v{example.version}</span>
      </div>
      <div className="jp-mlops-fv-example-at">
        as of{' '}
        <time dateTime={example.as_of} title={example.as_of}>
          {formatDateTime(example.as_of)}
        </time>
      </div>
      <div className="jp-mlops-fv-example-values">
        <span data-side="online">online {showValue(example.online)}</span>
        <span aria-hidden="true">≠</span>
        <span data-side="offline">offline {showValue(example.offline)}</span>
      </div>
    </li>
  );
}

/**
 * The older reports, one line each: when, verdict and counts.
 */
function OlderReports(props: { reports: IConsistencyReport[] }): JSX.Element {
  return (
    <ul
      className="jp-mlops-fv-older"
      aria-label="Older checks"
      data-testid="mlops-consistency-older"
    >
      {props.reports.map((report, i) => (
        <li key={report.id ?? i} data-verdict={report.verdict}>
          {report.created_at && (
            <time dateTime={report.created_at}>
              {formatDateTime(report.created_at)}
            </time>
          )}
          <VerdictBadge verdict={report.verdict} testid="mlops-older-verdict" />
          <span className="jp-mlops-fv-older-counts">
            {report.rows_checked.toLocaleString()}{' '}
            {plural(report.rows_checked, 'row')},{' '}
            {report.mismatches.toLocaleString()}{' '}
            {report.mismatches === 1 ? 'mismatch' : 'mismatches'}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * A feature name that may wrap after its underscores in a narrow table.
 */
function breakable(name: string): React.ReactNode[] {
  return name.split('_').map((part, i, parts) => (
    <React.Fragment key={i}>
      {part}
      {i < parts.length - 1 && (
        <>
          _<wbr />
        </>
      )}
    </React.Fragment>
  ));
}

function showValue(value: JSONValue): string {
  if (value === null) {
    return 'null';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
