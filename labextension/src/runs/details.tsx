import { launchIcon, stopIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatValue } from '../format';
import { IRun } from './types';
import { IRunsState, RunsModel } from './model';
import { IStageActions, StageDag } from './stages';

/**
 * How the server names the one-stage pipeline of a notebook run.
 */
const NOTEBOOK_PIPELINE = 'notebook:';

/**
 * What a run is called in the list: its pipeline, or its notebook.
 */
export function runTitle(run: IRun): string {
  const pipeline = run.pipeline ?? '';
  if (pipeline.startsWith(NOTEBOOK_PIPELINE)) {
    return pipeline.slice(NOTEBOOK_PIPELINE.length);
  }
  return pipeline || run.notebook || run.kind;
}

/**
 * A run's facts, actions and stage graph: under its row in the sidebar, or
 * as a main-area tab. `detail` is `GET runs/{id}` (for the metrics);
 * `onOpenTab` offers to open the run in a tab of its own.
 */
export function RunDetails(props: {
  run: IRun;
  detail: IRun | undefined;
  model: RunsModel;
  state: IRunsState;
  onOpenTab?: (runId: string) => void;
}): JSX.Element {
  const { run, detail, model, state, onOpenTab } = props;
  const overrides = Object.entries(run.parameters ?? {});
  const cancelling =
    state.pending.has(`cancel:${run.id}`) || !!run.cancel_requested;
  const actions: IStageActions = {
    open: (stage, atCell) => void model.openStage(run.id, stage, atCell),
    opening: stage => state.pending.has(`open:${run.id}/${stage}`)
  };
  return (
    <div className="jp-mlops-run-details" data-testid="mlops-run-details">
      <dl className="jp-mlops-facts">
        <dt>Run</dt>
        <dd>
          <code data-testid="mlops-run-id">{run.id}</code>
        </dd>
        {run.notebook && (
          <>
            <dt>Notebook</dt>
            <dd>{run.notebook}</dd>
          </>
        )}
        {overrides.length > 0 && (
          <>
            <dt>Parameters</dt>
            <dd className="jp-mlops-overrides">
              {overrides.map(([name, value]) => (
                <code key={name}>
                  {name}={formatValue(value)}
                </code>
              ))}
            </dd>
          </>
        )}
        {run.git_commit && (
          <>
            <dt>Commit</dt>
            <dd>
              <code title={run.git_commit}>{run.git_commit.slice(0, 10)}</code>
              {run.git_dirty && (
                <span className="jp-mlops-dirty"> + local changes</span>
              )}
            </dd>
          </>
        )}
        {run.reason && (
          <>
            <dt>Reason</dt>
            <dd>{run.reason}</dd>
          </>
        )}
      </dl>
      {run.error && (
        <p className="jp-mlops-run-error" data-testid="mlops-run-error">
          {run.error}
        </p>
      )}
      {run.status === 'running' && (
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button jp-mlops-cancel"
          data-testid="mlops-run-cancel"
          disabled={cancelling}
          onClick={() => void model.cancelRun(run.id)}
        >
          <stopIcon.react tag="span" className="jp-mlops-button-icon" />
          {cancelling ? 'Cancelling…' : 'Cancel run'}
        </button>
      )}
      {onOpenTab && (
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-run-open-tab"
          title="Open this run in a tab of the main area"
          onClick={() => onOpenTab(run.id)}
        >
          <launchIcon.react tag="span" className="jp-mlops-button-icon" />
          Open in a tab
        </button>
      )}
      <StageDag
        stages={run.stages ?? []}
        metrics={detail?.metrics}
        actions={actions}
        label={`Stages of run ${run.id}`}
      />
    </div>
  );
}
