import { ReactWidget } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { asApiError, MlopsApiError } from '../request';
import { IRun, IRunsApi } from './types';
import { RunDetails, runTitle } from './details';
import { POLL_INTERVAL, RunsModel } from './model';
import { StatusIcon } from './status';

/**
 * What a run tab shows: the run, or why it could not be loaded.
 */
export interface IRunTabState {
  run: IRun | null;
  error: MlopsApiError | null;
}

/**
 * One run, loaded with `GET runs/{id}` and followed while it runs.
 */
export class RunTabModel {
  constructor(
    readonly runId: string,
    private _api: Pick<IRunsApi, 'getRun'>,
    private _pollInterval = POLL_INTERVAL
  ) {}

  get state(): IRunTabState {
    return this._state;
  }

  get changed(): ISignal<this, IRunTabState> {
    return this._changed;
  }

  /**
   * Load the run; while it runs, load it again every poll interval.
   */
  async load(): Promise<void> {
    window.clearTimeout(this._timer);
    try {
      this._set({ run: await this._api.getRun(this.runId), error: null });
    } catch (reason) {
      this._set({ ...this._state, error: asApiError(reason) });
    }
    if (!this._disposed && this._state.run?.status === 'running') {
      this._timer = window.setTimeout(
        () => void this.load(),
        this._pollInterval
      );
    }
  }

  dispose(): void {
    this._disposed = true;
    window.clearTimeout(this._timer);
    Signal.clearData(this);
  }

  private _set(state: IRunTabState): void {
    if (this._disposed) {
      return;
    }
    this._state = state;
    this._changed.emit(state);
  }

  private _state: IRunTabState = { run: null, error: null };
  private _changed = new Signal<this, IRunTabState>(this);
  private _timer = 0;
  private _disposed = false;
}

/**
 * A run as a main-area tab: its facts, stage graph (a click opens a stage's
 * executed notebook) and stage cards. Actions go through the Runs view's
 * model, so pending opens and errors show in both.
 */
export class RunTab extends ReactWidget {
  constructor(runs: RunsModel, tab: RunTabModel) {
    super();
    this._runs = runs;
    this._tab = tab;
    this.addClass('jp-mlops-run-tab');
    // Render on every change of either model; reading the state at render
    // time never misses a change made before React subscribed.
    tab.changed.connect(this.update, this);
    runs.stateChanged.connect(this.update, this);
  }

  get runId(): string {
    return this._tab.runId;
  }

  get changed(): ISignal<RunTabModel, IRunTabState> {
    return this._tab.changed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._runs.stateChanged.disconnect(this.update, this);
    this._tab.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <RunTabView
        tab={this._tab.state}
        runId={this._tab.runId}
        runs={this._runs}
        state={this._runs.state}
      />
    );
  }

  private _runs: RunsModel;
  private _tab: RunTabModel;
}

function RunTabView(props: {
  tab: IRunTabState;
  runId: string;
  runs: RunsModel;
  state: RunsModel['state'];
}): JSX.Element {
  const { tab, runId, runs, state } = props;
  const { run, error } = tab;
  return (
    <div
      className="jp-mlops-run-tab-body"
      data-testid="mlops-run-tab"
      data-run-id={runId}
      data-status={run?.status}
    >
      <h2 className="jp-mlops-run-tab-title">
        {run && <StatusIcon status={run.status} />}
        <span>{run ? runTitle(run) : 'Run'}</span>
        <span className="jp-mlops-run-tab-status">{run?.status}</span>
      </h2>
      {error && (
        <ErrorNotice
          error={error}
          title="The run could not be loaded"
          testid="mlops-run-tab-error"
        />
      )}
      {state.actionError && (
        <ErrorNotice
          error={state.actionError}
          title="That did not work"
          testid="mlops-action-error"
          onDismiss={() => runs.dismissActionError()}
        />
      )}
      {!run && !error && <p className="jp-mlops-placeholder">Loading…</p>}
      {run && <RunDetails run={run} detail={run} model={runs} state={state} />}
    </div>
  );
}

/**
 * The title of a run's tab: its pipeline (or notebook) and id.
 */
export function runTabLabel(run: IRun | null, runId: string): string {
  return run ? `${runTitle(run)} · ${runId}` : `Run ${runId}`;
}

/**
 * A run tab's content, its title following the run (the main-area frame
 * mirrors it).
 */
export function createRunTab(
  runs: RunsModel,
  api: Pick<IRunsApi, 'getRun'>,
  runId: string
): RunTab {
  const tabModel = new RunTabModel(runId, api);
  const content = new RunTab(runs, tabModel);
  const retitle = (state: IRunTabState) => {
    content.title.label = runTabLabel(state.run, runId);
    content.title.caption = state.run
      ? `Run ${runId} of ${runTitle(state.run)}: ${state.run.status}`
      : `Run ${runId}`;
  };
  retitle(tabModel.state);
  tabModel.changed.connect((_, state) => retitle(state));
  void tabModel.load();
  return content;
}
