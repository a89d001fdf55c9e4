import * as React from 'react';

import { DetailShell } from '../listView';
import { OpenInTab } from '../openInTab';
import { WideTable } from '../widetable';
import { formatAge, formatShare, formatStarted } from '../format';
import { DeploymentsModel, IDeploymentsState } from './model';
import { TrafficHistory } from './history';
import {
  ErrorRates,
  Feedback,
  LivenessBadge,
  livenessOf,
  SplitBar
} from './parts';
import { rolloutActive, RolloutSection } from './rollout';
import { SplitControl } from './split';
import {
  currentSplit,
  formatMs,
  ITraffic,
  trafficOf,
  unixToIso,
  variantLabel
} from './traffic';
import { OnlineFeatures } from './features';
import { IDeployment, IServerMetadata } from './types';

/**
 * A deployment: where it runs, its progressive rollout (live, with its
 * decisions), its variants' traffic, errors (5xx apart from 4xx) and latency, the same over time (charts), the split (and
 * changing it), the split history, online features and their
 * freshness, load errors and where predictions are logged.
 */
export function DeploymentDetail(props: {
  model: DeploymentsModel;
  state: IDeploymentsState;
}): JSX.Element {
  const { model, state } = props;
  const { detail } = state;
  const traffic = detail ? trafficOf(detail) : null;
  const metadata = detail?.metadata;
  return (
    <DetailShell
      className="jp-mlops-dp-detail"
      testid="mlops-deployment-detail"
      data={{ 'deployment-id': detail?.id ?? state.selected ?? undefined }}
      busy={state.detailLoading}
      back={{
        label: 'Deployments',
        tooltip: 'Back to the list of deployments',
        onClick: () => void model.deselect()
      }}
      ids="mlops-deployment"
      onRefresh={() => void model.refresh()}
      actions={
        <>
          {model.openTab && detail && (
            <OpenInTab
              testid="mlops-deployment-open-tab"
              compact
              onClick={() => model.openTab?.(detail.id)}
            />
          )}
        </>
      }
      state={state}
      shown={!!detail}
      errorTitle="The deployment could not be loaded"
    >
      {detail && (
        <>
          <Head deployment={detail} />
          <Feedback model={model} state={state} />
          <section className="jp-mlops-dp-section" aria-label="Traffic split">
            <h4 className="jp-mlops-dp-section-title">Traffic split</h4>
            {livenessOf(detail) !== 'alive' ? (
              <SplitBar
                split={detail.split}
                challenger={detail.challenger !== null}
              />
            ) : detail.challenger ? (
              <SplitControl
                key={`${detail.id}:${currentSplit(detail)}`}
                model={model}
                deployment={detail}
                pending={state.pending.has('split') || rolloutActive(state)}
              />
            ) : (
              <p className="jp-mlops-placeholder">
                No challenger: the champion takes all traffic. Serve with{' '}
                <code>--challenger NAME@ALIAS</code> to run a canary.
              </p>
            )}
          </section>
          <RolloutSection model={model} state={state} deployment={detail} />
          {traffic && <Variants traffic={traffic} />}
          {livenessOf(detail) === 'alive' && (
            <TrafficHistory
              history={state.history}
              error={state.historyError}
            />
          )}
          {metadata && <SplitHistory metadata={metadata} />}
          {metadata && <OnlineFeatures metadata={metadata} />}
          <PredictionLog deployment={detail} />
        </>
      )}
    </DetailShell>
  );
}

function Head(props: { deployment: IDeployment }): JSX.Element {
  const { deployment } = props;
  const served = deployment.metadata?.served ?? {};
  const errors = Object.entries(served).filter(([, s]) => s.last_error);
  return (
    <section className="jp-mlops-dp-head" aria-label="Deployment">
      <div className="jp-mlops-dp-title">
        <h3 data-testid="mlops-deployment-ref">{deployment.ref}</h3>
        <LivenessBadge deployment={deployment} />
      </div>
      <dl className="jp-mlops-facts">
        <dt>Challenger</dt>
        <dd data-fact="challenger">
          {deployment.challenger ? (
            <code>{deployment.challenger}</code>
          ) : (
            'none (the champion takes all traffic)'
          )}
        </dd>
        <dt>URL</dt>
        <dd data-fact="url">
          <code>{deployment.url}</code>
        </dd>
        <dt>Process</dt>
        <dd data-fact="process">
          pid {deployment.pid} on {deployment.host}
        </dd>
        <dt>Started</dt>
        <dd data-fact="started">
          <time
            dateTime={deployment.started_at}
            title={formatStarted(deployment.started_at)}
          >
            {formatAge(deployment.started_at)}
          </time>
        </dd>
        {deployment.stopped_at && (
          <>
            <dt>Stopped</dt>
            <dd data-fact="stopped">
              <time
                dateTime={deployment.stopped_at}
                title={formatStarted(deployment.stopped_at)}
              >
                {formatAge(deployment.stopped_at)}
              </time>
            </dd>
          </>
        )}
      </dl>
      {deployment.error && (
        <p
          className="jp-mlops-dp-warning"
          role="status"
          data-testid="mlops-deployment-down"
        >
          {deployment.error}
        </p>
      )}
      {errors.map(([variant, slot]) => (
        <p
          key={variant}
          className="jp-mlops-dp-warning"
          role="status"
          data-testid="mlops-deployment-load-error"
          data-variant={variant}
        >
          The {variant} ({slot.ref}) failed to load a new version and keeps
          serving v{slot.version}: {slot.last_error}
        </p>
      ))}
    </section>
  );
}

/**
 * Each variant: the version it serves, requests by status, the server's
 * errors (5xx, the error rate) and the client's (4xx) apart, and latency.
 */
function Variants(props: { traffic: ITraffic }): JSX.Element {
  const { traffic } = props;
  return (
    <section className="jp-mlops-dp-section" aria-label="Variants">
      <h4 className="jp-mlops-dp-section-title">
        Variants
        <span className="jp-mlops-meta" data-testid="mlops-deployment-total">
          {traffic.requests} requests
          {traffic.requests > 0 && <ErrorRates traffic={traffic} />}
        </span>
      </h4>
      <WideTable
        columns={7}
        label="Variants"
        first="8.5em"
        column="5.5em"
        className="jp-mlops-dp-variants"
      >
        <thead>
          <tr>
            <th>Variant</th>
            <th>Version</th>
            <th>Requests by status</th>
            <th title="Server errors (5xx): the error rate">5xx</th>
            <th title="Client errors (4xx): bad bodies, unknown entities; not in the error rate">
              4xx
            </th>
            <th>p50</th>
            <th>p99</th>
          </tr>
        </thead>
        <tbody>
          {traffic.variants.map(v => (
            <tr
              key={v.variant}
              data-testid="mlops-variant-row"
              data-variant={v.variant}
            >
              <th
                scope="row"
                title={
                  v.variant === 'none'
                    ? 'Requests refused before a variant was chosen (e.g. a body that is not JSON)'
                    : undefined
                }
              >
                {variantLabel(v.variant)}
                {v.served && (
                  <span className="jp-mlops-table-stage">{v.served.ref}</span>
                )}
              </th>
              <td className="jp-mlops-num" data-column="version">
                {v.served ? `v${v.served.version}` : '–'}
              </td>
              <td className="jp-mlops-num" data-column="statuses">
                {v.byStatus.length === 0
                  ? '0'
                  : v.byStatus.map(([status, n]) => (
                      <span
                        key={status}
                        className="jp-mlops-dp-status"
                        data-status={status}
                      >
                        {status}: {n}
                      </span>
                    ))}
              </td>
              <td
                className="jp-mlops-num"
                data-column="server-errors"
                data-count={v.serverErrors}
                data-bad={v.serverErrors > 0}
              >
                {v.requests ? formatShare(v.serverErrors / v.requests) : '–'}
              </td>
              <td
                className="jp-mlops-num"
                data-column="client-errors"
                data-count={v.clientErrors}
              >
                {v.requests ? formatShare(v.clientErrors / v.requests) : '–'}
              </td>
              <td className="jp-mlops-num" data-column="p50">
                {formatMs(v.latency?.p50_ms)}
              </td>
              <td className="jp-mlops-num" data-column="p99">
                {formatMs(v.latency?.p99_ms)}
              </td>
            </tr>
          ))}
        </tbody>
      </WideTable>
      <p className="jp-mlops-meta">
        The error rate counts the server&apos;s errors (5xx); the client&apos;s
        (4xx: a bad body, an unknown entity) are shown apart. Latency quantiles
        are the upper bounds of the server&apos;s histogram buckets.
      </p>
    </section>
  );
}

function SplitHistory(props: { metadata: IServerMetadata }): JSX.Element {
  const history = [...props.metadata.split_history].reverse();
  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-split-history"
      open
    >
      <summary>
        Split history
        <span className="jp-mlops-badge">{history.length}</span>
      </summary>
      <table className="jp-mlops-table jp-mlops-dp-history">
        <thead>
          <tr>
            <th>From</th>
            <th>To</th>
            <th>Reason</th>
            <th>When</th>
          </tr>
        </thead>
        <tbody>
          {history.map((change, i) => {
            const at = unixToIso(change.at);
            return (
              <tr key={`${change.at}:${i}`} data-testid="mlops-split-change">
                <td className="jp-mlops-num" data-column="from">
                  {formatShare(change.from)}
                </td>
                <td className="jp-mlops-num" data-column="to">
                  {formatShare(change.to)}
                </td>
                <td data-column="reason">{change.reason || '–'}</td>
                <td data-column="at">
                  <time dateTime={at} title={formatStarted(at)}>
                    {formatAge(at)}
                  </time>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
}

function PredictionLog(props: { deployment: IDeployment }): JSX.Element {
  const { log_folder, counts } = props.deployment;
  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-prediction-log"
      open
    >
      <summary>Prediction log</summary>
      {log_folder ? (
        <dl className="jp-mlops-facts">
          <dt>Folder</dt>
          <dd data-fact="log_folder">
            <code>{log_folder}</code>
          </dd>
          {counts && (
            <>
              <dt>Logged</dt>
              <dd data-fact="counts" data-testid="mlops-deployment-counts">
                <LogCounts counts={counts} />
              </dd>
            </>
          )}
        </dl>
      ) : (
        <p className="jp-mlops-placeholder">
          Predictions are not logged (served with <code>--no-log</code>).
        </p>
      )}
    </details>
  );
}

/**
 * "48 of 50 predictions written to 1 file".
 */
export function LogCounts(props: {
  counts: NonNullable<IDeployment['counts']>;
}): JSX.Element {
  const { appended, written, files } = props.counts;
  return (
    <span
      className="jp-mlops-dp-counts"
      data-appended={appended}
      data-written={written}
      data-files={files}
    >
      {written} of {appended} predictions written to {files}{' '}
      {files === 1 ? 'file' : 'files'}
    </span>
  );
}
