import {
  caretDownIcon,
  caretRightIcon,
  HTMLSelect,
  runIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatDuration, formatStarted } from '../format';
import { ListShell, ViewHeader, ViewPanel } from '../listView';
import { IRun, RUN_STATUSES, RunStatus } from './types';
import { ComparisonView } from './compare';
import { CompareSelection } from './compareSelection';
import { LaunchForm } from './launcher';
import { comparisonOf, IRunsState, RunsModel } from './model';
import { RunDetails, runTitle } from './details';
import { StatusIcon } from './status';

/**
 * The Runs view of the MLOps sidebar: a view of a `RunsModel`.
 *
 * While shown, the model is active: it reloads on show and follows
 * running runs live.
 */
export class RunsPanel extends ViewPanel<RunsModel> {
  /**
   * `openRun` opens a run in a main-area tab, `openComparison` the
   * comparison of two or more runs (the baseline first).
   */
  constructor(
    model: RunsModel,
    openRun?: (runId: string) => void,
    openComparison?: (runIds: string[]) => void
  ) {
    super(model, 'Runs');
    this._openRun = openRun;
    this._openComparison = openComparison;
  }

  /**
   * Open the "Run pipeline" form.
   */
  openLauncher(): void {
    this._setLaunching(true);
  }

  protected onShown(): void {
    this.model.setActive(true);
  }

  protected onHidden(): void {
    this.model.setActive(false);
  }

  protected renderState(state: IRunsState): JSX.Element {
    return (
      <RunsView
        model={this.model}
        state={state}
        launching={this._launching}
        onOpenTab={this._openRun}
        onOpenComparison={this._openComparison}
        onLaunchingChange={launching => this._setLaunching(launching)}
      />
    );
  }

  private _setLaunching(launching: boolean): void {
    this._launching = launching;
    this.update();
  }

  private _launching = false;
  private _openRun: ((runId: string) => void) | undefined;
  private _openComparison: ((runIds: string[]) => void) | undefined;
}

/**
 * The whole Runs view for one state of the model.
 */
function RunsView(props: {
  model: RunsModel;
  state: IRunsState;
  launching: boolean;
  onLaunchingChange: (launching: boolean) => void;
  onOpenTab?: (runId: string) => void;
  onOpenComparison?: (runIds: string[]) => void;
}): JSX.Element {
  const { model, state, launching, onOpenTab, onOpenComparison } = props;
  const setLaunching = props.onLaunchingChange;
  const { filter } = state;
  return (
    <ListShell
      className="jp-mlops-runs"
      testid="mlops-runs"
      data={{ live: state.live }}
      header={
        <ViewHeader
          className="jp-mlops-runs-header"
          start={
            <ToolbarButtonComponent
              icon={runIcon}
              label="Run pipeline"
              tooltip="Choose a pipeline, set its parameters and start a run"
              dataset={{ testid: 'mlops-run-pipeline' }}
              pressed={launching}
              onClick={() => setLaunching(!launching)}
            />
          }
          actions={
            state.live ? (
              <span
                className="jp-mlops-live"
                title="A run is running: the list updates by itself"
              >
                live
              </span>
            ) : (
              <></>
            )
          }
          refreshTestid="mlops-runs-refresh"
          onRefresh={() => void model.refresh()}
        />
      }
      top={
        <>
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
            comparison={comparisonOf(state)}
            onClose={() => model.clearSelection()}
            onOpenTab={onOpenComparison && ((a, b) => onOpenComparison([a, b]))}
          />
          <CompareSelection
            selected={state.selected ?? []}
            runs={state.items}
            onOpen={onOpenComparison}
            onClear={() => model.clearSelection()}
          />
        </>
      }
      state={state}
      errorTitle="The runs could not be loaded"
      empty={
        filter.pipeline || filter.status
          ? 'No runs match the filter.'
          : 'No runs yet. Start one with Run pipeline.'
      }
      pager={{
        total: state.total,
        noun: 'run',
        onMore: () => void model.loadMore(),
        countTestid: 'mlops-runs-count',
        moreTestid: 'mlops-load-more'
      }}
    >
      <ul className="jp-mlops-runlist" aria-label="Runs">
        {state.items.map(run => (
          <RunRow
            key={run.id}
            run={run}
            model={model}
            state={state}
            onOpenTab={onOpenTab}
          />
        ))}
      </ul>
    </ListShell>
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
      <label
        className="jp-mlops-filter-toggle"
        title="Show the clean runs of handoff checks among the runs"
      >
        <input
          type="checkbox"
          data-testid="mlops-filter-handoffs"
          checked={state.filter.handoffs}
          onChange={event =>
            void model.setFilter({ handoffs: event.currentTarget.checked })
          }
        />
        Handoff runs
      </label>
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
  onOpenTab?: (runId: string) => void;
}): JSX.Element {
  const { run, model, state, onOpenTab } = props;
  const expanded = state.expanded.has(run.id);
  const selected = !!state.selected?.includes(run.id);
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
          title="Tick two or more runs to compare them"
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
      {expanded && (
        <RunDetails
          run={run}
          detail={state.details.get(run.id)}
          model={model}
          state={state}
          onOpenTab={onOpenTab}
        />
      )}
    </li>
  );
}
