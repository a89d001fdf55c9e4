import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { formatAge, formatShare } from '../format';
import { ThemeStamp } from '../evaluations/plot';
import { ListDetail, ListShell, ViewHeader, ViewPanel } from '../listView';
import { DeploymentDetail, LogCounts } from './detail';
import { DeploymentsModel, IDeploymentsState } from './model';
import { Alerts, ErrorRates, Feedback, LivenessBadge, SplitBar } from './parts';
import { currentSplit, formatMs, trafficOf } from './traffic';
import { IDeployment } from './types';

/**
 * The Deployments view of the MLOps sidebar: a view of a
 * `DeploymentsModel`, reloading every few seconds while shown.
 *
 * The list holds the model servers started with `mlops-lab serve` (the
 * stopped ones folded away) and the open alerts; one shows its variants,
 * charts of its traffic over time, split, history and features, and moves
 * its split. Charts redraw in the new colours when the theme changes.
 */
export class DeploymentsPanel extends ViewPanel<DeploymentsModel> {
  constructor(
    model: DeploymentsModel,
    themeChanged?: ISignal<unknown, unknown> | null
  ) {
    super(model, 'Deployments');
    themeChanged?.connect(this._onTheme, this);
  }

  protected onShown(): void {
    this.model.startPolling();
  }

  protected onHidden(): void {
    this.model.stopPolling();
  }

  protected renderState(state: IDeploymentsState): JSX.Element {
    const model = this.model;
    return (
      <ThemeStamp.Provider value={this._stamp}>
        <ListDetail
          where={state.selected}
          scroller={this.node}
          detail={() => <DeploymentDetail model={model} state={state} />}
          list={remember => (
            <DeploymentList
              model={model}
              state={state}
              onOpen={id => {
                remember();
                void model.select(id);
              }}
            />
          )}
        />
      </ThemeStamp.Provider>
    );
  }

  /**
   * The charts redraw in the new theme's colours.
   */
  private _onTheme(): void {
    this._stamp += 1;
    this.update();
  }

  private _stamp = 0;
}

function DeploymentList(props: {
  model: DeploymentsModel;
  state: IDeploymentsState;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { model, state, onOpen } = props;
  const running = state.items.filter(d => d.status === 'running');
  const stopped = state.items.filter(d => d.status !== 'running');
  return (
    <ListShell
      className="jp-mlops-dp-list"
      testid="mlops-deployments"
      header={
        <ViewHeader
          title="Deployments"
          refreshTestid="mlops-deployments-refresh"
          refreshTooltip="Refresh (it refreshes every few seconds while shown)"
          onRefresh={() => void model.refresh()}
        />
      }
      state={state}
      errorTitle="The deployments could not be loaded"
      feedback={<Feedback model={model} state={state} />}
      shown={running.length}
      empty={
        <>
          No model server running. Start one from a terminal with{' '}
          <code>mlops-lab serve NAME@ALIAS</code>, e.g.{' '}
          <code>mlops-lab serve churn@champion</code>.
        </>
      }
      bottom={
        <>
          {stopped.length > 0 && (
            <details
              className="jp-mlops-fv-section"
              data-testid="mlops-deployments-stopped"
            >
              <summary>
                Stopped
                <span className="jp-mlops-badge">{stopped.length}</span>
              </summary>
              <ul className="jp-mlops-dp-rows" aria-label="Stopped deployments">
                {stopped.map(deployment => (
                  <StoppedRow
                    key={deployment.id}
                    deployment={deployment}
                    onOpen={onOpen}
                  />
                ))}
              </ul>
            </details>
          )}
          <Alerts state={state} />
        </>
      }
    >
      <ul className="jp-mlops-dp-rows" aria-label="Running deployments">
        {running.map(deployment => (
          <RunningRow
            key={deployment.id}
            deployment={deployment}
            onOpen={onOpen}
          />
        ))}
      </ul>
    </ListShell>
  );
}

/**
 * A running server: its ref, versions, split, requests, error rate (5xx)
 * and client-error rate (4xx), and each variant's latency.
 */
function RunningRow(props: {
  deployment: IDeployment;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { deployment, onOpen } = props;
  const traffic = trafficOf(deployment);
  const served = deployment.metadata?.served ?? {};
  return (
    <li
      className="jp-mlops-dp-row"
      data-testid="mlops-deployment-row"
      data-deployment-id={deployment.id}
      data-ref={deployment.ref}
    >
      <button
        type="button"
        className="jp-mlops-dp-open"
        title={`Show ${deployment.ref} at ${deployment.url}`}
        onClick={() => onOpen(deployment.id)}
      >
        <span className="jp-mlops-dp-row-main">
          <span className="jp-mlops-dp-row-name">{deployment.ref}</span>
          <LivenessBadge deployment={deployment} />
          <code className="jp-mlops-dp-url">{deployment.url}</code>
        </span>
        <span
          className="jp-mlops-dp-row-meta"
          data-testid="mlops-deployment-versions"
        >
          {served.champion ? `champion v${served.champion.version}` : ''}
          {deployment.challenger && (
            <>
              <span className="jp-mlops-meta-sep">·</span>
              challenger <code>{deployment.challenger}</code>
              {served.challenger && ` v${served.challenger.version}`}
            </>
          )}
        </span>
        <span className="jp-mlops-dp-row-traffic">
          <SplitBar
            split={currentSplit(deployment)}
            challenger={deployment.challenger !== null}
          />
          {traffic ? (
            <span
              className="jp-mlops-dp-row-requests"
              data-testid="mlops-deployment-requests"
              data-requests={traffic.requests}
              data-errors={traffic.serverErrors}
              data-client-errors={traffic.clientErrors}
            >
              {traffic.requests} requests
              {traffic.requests > 0 && <ErrorRates traffic={traffic} />}
            </span>
          ) : (
            <span className="jp-mlops-meta">
              {deployment.error ?? 'not answering'}
            </span>
          )}
        </span>
        {traffic && (
          <span className="jp-mlops-dp-row-latency">
            {traffic.variants
              .filter(v => v.served)
              .map(v => (
                <span
                  key={v.variant}
                  data-testid="mlops-deployment-latency"
                  data-variant={v.variant}
                >
                  {v.variant} p50 {formatMs(v.latency?.p50_ms)} · p99{' '}
                  {formatMs(v.latency?.p99_ms)}
                </span>
              ))}
          </span>
        )}
      </button>
    </li>
  );
}

/**
 * A stopped server: what it served, when it stopped and what it logged.
 */
function StoppedRow(props: {
  deployment: IDeployment;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { deployment, onOpen } = props;
  return (
    <li
      className="jp-mlops-dp-row"
      data-testid="mlops-deployment-stopped-row"
      data-deployment-id={deployment.id}
      data-ref={deployment.ref}
    >
      <button
        type="button"
        className="jp-mlops-dp-open"
        title={`Show ${deployment.ref}`}
        onClick={() => onOpen(deployment.id)}
      >
        <span className="jp-mlops-dp-row-main">
          <span className="jp-mlops-dp-row-name">{deployment.ref}</span>
          <LivenessBadge deployment={deployment} />
          <span className="jp-mlops-meta">
            {formatAge(deployment.stopped_at)}
          </span>
        </span>
        {deployment.challenger && (
          <span className="jp-mlops-dp-row-meta">
            challenger <code>{deployment.challenger}</code> at{' '}
            {formatShare(deployment.split)}
          </span>
        )}
        <span
          className="jp-mlops-dp-row-meta"
          data-testid="mlops-deployment-counts"
        >
          {deployment.counts ? (
            <LogCounts counts={deployment.counts} />
          ) : deployment.log_folder ? (
            'no prediction-log counts recorded'
          ) : (
            'predictions not logged'
          )}
        </span>
      </button>
    </li>
  );
}
