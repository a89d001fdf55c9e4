import * as React from 'react';

import {
  ActionFeedback as SharedFeedback,
  Decided,
  ErrorNotice
} from '../components';
import { formatAge, formatShare, formatStarted } from '../format';
import { DeploymentsModel, IDeploymentsState } from './model';
import { ITraffic } from './traffic';
import { IAlert, IDeployment } from './types';

/**
 * Whether a deployment answers: `alive`, `down` (running but not
 * answering) or `stopped`.
 */
export type Liveness = 'alive' | 'down' | 'stopped';

export function livenessOf(deployment: IDeployment): Liveness {
  if (deployment.status === 'stopped') {
    return 'stopped';
  }
  return deployment.alive ? 'alive' : 'down';
}

export function LivenessBadge(props: { deployment: IDeployment }): JSX.Element {
  const { deployment } = props;
  const liveness = livenessOf(deployment);
  const title =
    liveness === 'alive'
      ? `${deployment.url} answers`
      : liveness === 'down'
        ? (deployment.error ?? `${deployment.url} does not answer`)
        : `Stopped ${formatAge(deployment.stopped_at)}`;
  return (
    <span
      className="jp-mlops-dp-badge"
      data-liveness={liveness}
      data-testid="mlops-deployment-liveness"
      title={title}
    >
      {liveness}
    </span>
  );
}

/**
 * The traffic split as a bar: the champion's share, then the
 * challenger's.
 */
export function SplitBar(props: {
  split: number;
  challenger: boolean;
}): JSX.Element {
  const { split, challenger } = props;
  const share = challenger ? Math.min(Math.max(split, 0), 1) : 0;
  return (
    <span
      className="jp-mlops-dp-split"
      data-testid="mlops-deployment-split"
      data-split={share}
      title={
        challenger
          ? `champion ${formatShare(1 - share)}, challenger ${formatShare(share)}`
          : 'No challenger: the champion takes all traffic'
      }
    >
      <span className="jp-mlops-dp-split-bar" aria-hidden="true">
        <span
          className="jp-mlops-dp-split-champion"
          style={{ width: `${(1 - share) * 100}%` }}
        />
        <span
          className="jp-mlops-dp-split-challenger"
          style={{ width: `${share * 100}%` }}
        />
      </span>
      <span
        className="jp-mlops-dp-split-share"
        data-testid="mlops-deployment-split-share"
        data-challenger={challenger}
      >
        {challenger ? formatShare(share) : 'no challenger'}
      </span>
    </span>
  );
}

/**
 * " · 2% 5xx · 4% 4xx": the error rate (the server's failures) and, beside
 * it, the client's errors, each explained in its tooltip.
 */
export function ErrorRates(props: { traffic: ITraffic }): JSX.Element {
  const { traffic } = props;
  return (
    <>
      <span className="jp-mlops-meta-sep">·</span>
      <span
        className="jp-mlops-dp-rate"
        data-class="5xx"
        data-testid="mlops-deployment-error-rate"
        data-bad={traffic.serverErrors > 0}
        title={`${traffic.serverErrors} of ${traffic.requests} requests failed on the server (5xx): the error rate`}
      >
        {formatShare(traffic.errorRate)} 5xx
      </span>
      <span className="jp-mlops-meta-sep">·</span>
      <span
        className="jp-mlops-dp-rate"
        data-class="4xx"
        data-testid="mlops-deployment-client-error-rate"
        title={`${traffic.clientErrors} of ${traffic.requests} requests were refused as the client's error (4xx: a bad body, an unknown entity); not counted in the error rate`}
      >
        {formatShare(traffic.clientErrorRate)} 4xx
      </span>
    </>
  );
}

/**
 * Why the last action failed, or what it did.
 */
export function Feedback(props: {
  model: DeploymentsModel;
  state: IDeploymentsState;
}): JSX.Element | null {
  const { model, state } = props;
  return (
    <SharedFeedback
      actionError={state.actionError}
      notice={state.notice}
      testid="mlops-deployments"
      onDismiss={() => model.dismiss()}
    />
  );
}

/**
 * The active alerts (open or acknowledged, not closed), each with the
 * data that raised it; an acknowledged one says by whom and why.
 */
export function Alerts(props: { state: IDeploymentsState }): JSX.Element {
  const { alerts, alertsError } = props.state;
  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-deployments-alerts"
      open
    >
      <summary>
        Active alerts
        <span className="jp-mlops-badge">{alerts.length}</span>
      </summary>
      {alertsError && (
        <ErrorNotice
          error={alertsError}
          title="The alerts could not be loaded"
          testid="mlops-deployments-alerts-error"
        />
      )}
      {!alertsError && alerts.length === 0 && (
        <p className="jp-mlops-placeholder">No open or acknowledged alerts.</p>
      )}
      {alerts.length > 0 && (
        <ul className="jp-mlops-cards">
          {alerts.map(alert => (
            <AlertCard key={alert.id} alert={alert} />
          ))}
        </ul>
      )}
    </details>
  );
}

function AlertCard(props: { alert: IAlert }): JSX.Element {
  const { alert } = props;
  const data = Object.entries(alert.data ?? {});
  return (
    <li
      className="jp-mlops-card jp-mlops-alert"
      data-testid="mlops-deployments-alert"
      data-alert-id={alert.id}
      data-kind={alert.kind}
      data-status={alert.status}
    >
      <div className="jp-mlops-card-head">
        <span>
          <strong data-testid="mlops-alert-kind">{alert.kind}</strong>
          {alert.pipeline && (
            <span className="jp-mlops-meta">
              {' '}
              · pipeline{' '}
              <code data-testid="mlops-alert-pipeline">{alert.pipeline}</code>
            </span>
          )}
        </span>
        <time
          className="jp-mlops-meta"
          dateTime={alert.created_at}
          title={formatStarted(alert.created_at)}
        >
          {formatAge(alert.created_at)}
        </time>
      </div>
      <p className="jp-mlops-card-reason" data-testid="mlops-alert-message">
        {alert.message}
      </p>
      {alert.status === 'acknowledged' && (
        <Decided
          verb="Acknowledged"
          by={alert.acknowledged_by}
          at={alert.acknowledged_at}
          reason={alert.acknowledge_reason}
          testid="mlops-alert-acknowledged"
        />
      )}
      {data.length > 0 && (
        <dl
          className="jp-mlops-facts jp-mlops-dp-alert-data"
          data-testid="mlops-alert-data"
        >
          {data.map(([key, value]) => (
            <React.Fragment key={key}>
              <dt>{key}</dt>
              <dd data-key={key}>
                <DataValue value={value} />
              </dd>
            </React.Fragment>
          ))}
        </dl>
      )}
    </li>
  );
}

/**
 * A value of an alert's data: a list of names as chips, a number or
 * text as is, anything else as indented JSON.
 */
function DataValue(props: { value: unknown }): JSX.Element {
  const { value } = props;
  if (
    Array.isArray(value) &&
    value.every(v => typeof v === 'string' || typeof v === 'number')
  ) {
    return (
      <span className="jp-mlops-dp-chips">
        {value.map((item, i) => (
          <code key={i} className="jp-mlops-dp-chip">
            {String(item)}
          </code>
        ))}
      </span>
    );
  }
  if (typeof value === 'number') {
    return <span className="jp-mlops-num">{String(value)}</span>;
  }
  if (typeof value === 'string') {
    return <span>{value}</span>;
  }
  return (
    <pre className="jp-mlops-code jp-mlops-dp-json">
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
