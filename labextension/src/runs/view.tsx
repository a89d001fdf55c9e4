import {
  caretDownIcon,
  caretRightIcon,
  HTMLSelect,
  refreshIcon,
  runIcon,
  stopIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice, Pager } from '../components';
import { formatDuration, formatStarted, formatValue } from '../format';
import { ShownReactWidget } from '../shown';
import { IRun, RUN_STATUSES, RunStatus } from '../tokens';
import { ComparisonView } from './compare';
import { LaunchForm } from './launcher';
import { IRunsState, RunsModel } from './model';
import { IStageActions, StageDag } from './stages';
import { StatusIcon } from './status';

/**
 * The Runs view of the MLOps sidebar: a view of a `RunsModel`.
 *
 * While shown, the model is active: it reloads on show and follows
 * running runs live.
 */
export class RunsPanel extends ShownReactWidget {
  constructor(model: RunsModel) {
    super();
    this._model = model;
    this.addClass('jp-mlops-panel');
    this.title.label = 'Runs';
  }

  /**
   * Open the "Run pipeline" form.
   */
  openLauncher(): void {
    this._setLaunching(true);
  }

  protected onShown(): void {
    this._model.setActive(true);
  }

  protected onHidden(): void {
    this._model.setActive(false);
  }

  protected render(): JSX.Element {
    const model = this._model;
    return (
      <UseSignal signal={model.stateChanged} initialArgs={model.state}>
        {(_, state) => (
          <RunsView
            model={model}
            state={state ?? model.state}
            launching={this._launching}
            onLaunchingChange={launching => this._setLaunching(launching)}
          />
        )}
      </UseSignal>
    );
  }

  private _setLaunching(launching: boolean): void {
    this._launching = launching;
    this.update();
  }

  private _launching = false;
  private _model: RunsModel;
}

/**
 * The whole Runs view for one state of the model.
 */
function RunsView(props: {
  model: RunsModel;
  state: IRunsState;
  launching: boolean;
  onLaunchingChange: (launching: boolean) => void;
}): JSX.Element {
  const { model, state, launching } = props;
  const setLaunching = props.onLaunchingChange;
  const busy = state.loading && !state.loaded;
  return (
    <div
      className="jp-mlops-body jp-mlops-runs"
      data-testid="mlops-runs"
      data-live={state.live}
      aria-busy={state.loading}
    >
      <div className="jp-mlops-header jp-mlops-runs-header">
        <ToolbarButtonComponent
          icon={runIcon}
          label="Run pipeline"
          tooltip="Choose a pipeline, set its parameters and start a run"
          dataset={{ testid: 'mlops-run-pipeline' }}
          pressed={launching}
          onClick={() => setLaunching(!launching)}
        />
        <div className="jp-mlops-header-actions">
          {state.live && (
            <span
              className="jp-mlops-live"
              title="A run is running: the list updates by itself"
            >
              live
            </span>
          )}
          <ToolbarButtonComponent
            icon={refreshIcon}
            tooltip="Refresh"
            dataset={{ testid: 'mlops-runs-refresh' }}
            onClick={() => void model.refresh()}
          />
        </div>
      </div>
      {launching && (
        <LaunchForm
          pipelines={state.pipelines}
          pipelinesError={state.pipelinesError}
          onStart={request => model.startRun(request)}
          onClose={() => setLaunching(false)}
        />
      )}
      {state.actionError && (
        <ErrorNotice
          error={state.actionError}
          title="That did not work"
          testid="mlops-action-error"
          onDismiss={() => model.dismissActionError()}
        />
      )}
      <Filters model={model} state={state} />
      <ComparisonView
        comparison={state.comparison}
        onClose={() => model.clearSelection()}
      />
      {state.error && (
        <ErrorNotice
          error={state.error}
          title="The runs could not be loaded"
          testid="mlops-runs-error"
        />
      )}
      {busy && <p className="jp-mlops-placeholder">Loading…</p>}
      {state.loaded && state.runs.length === 0 && (
        <p className="jp-mlops-placeholder" data-testid="mlops-runs-empty">
          {state.filter.pipeline || state.filter.status
            ? 'No runs match the filter.'
            : 'No runs yet. Start one with Run pipeline.'}
        </p>
      )}
      {state.runs.length > 0 && (
        <ul className="jp-mlops-runlist" aria-label="Runs">
          {state.runs.map(run => (
            <RunRow key={run.id} run={run} model={model} state={state} />
          ))}
        </ul>
      )}
      <Pager
        shown={state.runs.length}
        total={state.total}
        noun="run"
        loading={state.loading}
        onMore={() => void model.loadMore()}
        countTestid="mlops-runs-count"
        moreTestid="mlops-load-more"
      />
    </div>
  );
}

/**
 * The server-side filter: pipeline and status.
 */
function Filters(props: { model: RunsModel; state: IRunsState }): JSX.Element {
  const { model, state } = props;
  const names = new Set(state.pipelines?.map(p => p.name) ?? []);
  if (state.filter.pipeline) {
    names.add(state.filter.pipeline);
  }
  return (
    <div className="jp-mlops-filters" role="group" aria-label="Filter runs">
      <HTMLSelect
        aria-label="Pipeline"
        data-testid="mlops-filter-pipeline"
        value={state.filter.pipeline ?? ''}
        onChange={event =>
          void model.setFilter({ pipeline: event.currentTarget.value || null })
        }
        options={[
          { value: '', label: 'All pipelines' },
          ...[...names].sort().map(name => ({ value: name, label: name }))
        ]}
      />
      <HTMLSelect
        aria-label="Status"
        data-testid="mlops-filter-status"
        value={state.filter.status ?? ''}
        onChange={event =>
          void model.setFilter({
            status: (event.currentTarget.value || null) as RunStatus | null
          })
        }
        options={[
          { value: '', label: 'Any status' },
          ...RUN_STATUSES.map(status => ({ value: status, label: status }))
        ]}
      />
    </div>
  );
}

/**
 * One run: a summary line that expands into its stages.
 */
function RunRow(props: {
  run: IRun;
  model: RunsModel;
  state: IRunsState;
}): JSX.Element {
  const { run, model, state } = props;
  const expanded = state.expanded.has(run.id);
  const selected = state.selected.includes(run.id);
  const ref = React.useRef<HTMLLIElement>(null);
  const focused = state.focus === run.id;
  React.useEffect(() => {
    if (focused) {
      ref.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [focused]);
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  const title = runTitle(run);
  return (
    <li
      ref={ref}
      className="jp-mlops-run"
      data-run-id={run.id}
      data-status={run.status}
      data-testid="mlops-run"
      data-selected={selected}
    >
      <div className="jp-mlops-run-summary">
        <input
          type="checkbox"
          className="jp-mlops-run-select"
          checked={selected}
          aria-label={`Compare run ${run.id}`}
          title="Tick two runs to compare them"
          data-testid="mlops-run-select"
          onChange={() => model.toggleSelected(run.id)}
        />
        <button
          type="button"
          className="jp-mlops-run-toggle"
          aria-expanded={expanded}
          data-testid="mlops-run-toggle"
          onClick={() => model.toggleExpanded(run.id)}
        >
          <Caret.react tag="span" className="jp-mlops-run-caret" />
          <StatusIcon status={run.status} />
          <span className="jp-mlops-run-text">
            <span className="jp-mlops-run-title" title={title}>
              {title}
            </span>
            <span className="jp-mlops-run-meta">
              <span
                className="jp-mlops-run-status"
                data-testid="mlops-run-status"
              >
                {run.cancel_requested && run.status === 'running'
                  ? 'cancelling'
                  : run.status}
              </span>
              <span className="jp-mlops-meta-sep">·</span>
              <span title="Trigger">{run.trigger}</span>
            </span>
          </span>
          <span className="jp-mlops-run-side">
            <span className="jp-mlops-run-duration" title="Duration">
              {formatDuration(run.duration_s)}
            </span>
            <time
              className="jp-mlops-run-started"
              dateTime={run.started_at}
              title={`Started ${new Date(run.started_at).toLocaleString()}`}
            >
              {formatStarted(run.started_at)}
            </time>
          </span>
        </button>
      </div>
      {expanded && <RunDetails run={run} model={model} state={state} />}
    </li>
  );
}

/**
 * How the server names the one-stage pipeline of a notebook run.
 */
const NOTEBOOK_PIPELINE = 'notebook:';

/**
 * What a run is called in the list: its pipeline, or its notebook.
 */
function runTitle(run: IRun): string {
  const pipeline = run.pipeline ?? '';
  if (pipeline.startsWith(NOTEBOOK_PIPELINE)) {
    return pipeline.slice(NOTEBOOK_PIPELINE.length);
  }
  return pipeline || run.notebook || run.kind;
}

/**
 * An expanded run: its facts, actions and stage DAG.
 */
function RunDetails(props: {
  run: IRun;
  model: RunsModel;
  state: IRunsState;
}): JSX.Element {
  const { run, model, state } = props;
  const detail = state.details.get(run.id);
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
      <StageDag
        stages={run.stages ?? []}
        metrics={detail?.metrics}
        actions={actions}
      />
    </div>
  );
}
