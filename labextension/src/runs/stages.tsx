import {
  notebookIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { plural } from '../components';
import { formatDuration, formatNumber, stripAnsi } from '../format';
import { IStageRun } from '../tokens';
import { StatusIcon } from './status';

/**
 * What a stage row can ask for.
 */
export interface IStageActions {
  /**
   * Open the stage's executed notebook, at the failing cell if `atCell`.
   */
  open(stage: string, atCell: boolean): void;
  /**
   * Whether an open of this stage is in flight.
   */
  opening(stage: string): boolean;
}

/**
 * Depth of each stage in the DAG: 0 for stages that need nothing, else one
 * more than the deepest stage they need.
 */
export function stageDepths(stages: readonly IStageRun[]): Map<string, number> {
  const byName = new Map(stages.map(s => [s.stage, s]));
  const depths = new Map<string, number>();
  const depth = (name: string, seen: Set<string>): number => {
    const known = depths.get(name);
    if (known !== undefined) {
      return known;
    }
    const stage = byName.get(name);
    if (!stage || seen.has(name)) {
      return 0;
    }
    seen.add(name);
    const parents = stage.needs.filter(n => byName.has(n));
    const value = parents.length
      ? 1 + Math.max(...parents.map(n => depth(n, seen)))
      : 0;
    depths.set(name, value);
    return value;
  };
  stages.forEach(s => depth(s.stage, new Set()));
  return depths;
}

/**
 * A run's stages in dependency order, indented by their depth in the DAG,
 * each naming the stages it needs.
 */
export function StageDag(props: {
  stages: readonly IStageRun[];
  metrics: Record<string, Record<string, number>> | undefined;
  actions: IStageActions;
}): JSX.Element {
  const stages = [...props.stages].sort((a, b) => a.position - b.position);
  const depths = stageDepths(stages);
  if (!stages.length) {
    return <p className="jp-mlops-placeholder">No stages recorded.</p>;
  }
  return (
    <ol className="jp-mlops-stages" aria-label="Stages">
      {stages.map(stage => (
        <StageRow
          key={stage.stage}
          stage={stage}
          depth={depths.get(stage.stage) ?? 0}
          metrics={props.metrics?.[stage.stage]}
          actions={props.actions}
        />
      ))}
    </ol>
  );
}

function StageRow(props: {
  stage: IStageRun;
  depth: number;
  metrics: Record<string, number> | undefined;
  actions: IStageActions;
}): JSX.Element {
  const { stage, depth, metrics, actions } = props;
  const metricEntries = Object.entries(metrics ?? {});
  return (
    <li
      className="jp-mlops-stage"
      data-stage={stage.stage}
      data-status={stage.status}
      data-testid="mlops-stage"
      data-depth={depth}
      style={{ '--jp-mlops-depth': depth } as React.CSSProperties}
    >
      <div className="jp-mlops-stage-row">
        <StatusIcon status={stage.status} />
        <div className="jp-mlops-stage-text">
          <span className="jp-mlops-stage-name" title={stage.notebook}>
            {stage.stage}
          </span>
          {stage.needs.length > 0 && (
            <span
              className="jp-mlops-stage-needs"
              title={`Needs ${stage.needs.join(', ')}`}
            >
              ← {stage.needs.join(', ')}
            </span>
          )}
        </div>
        <StageInfo stage={stage} />
        {stage.executed_notebook && (
          <ToolbarButtonComponent
            className="jp-mlops-stage-open"
            icon={notebookIcon}
            tooltip={`Open the executed notebook of ${stage.stage}`}
            enabled={!actions.opening(stage.stage)}
            dataset={{ testid: 'mlops-open-executed' }}
            onClick={() => actions.open(stage.stage, false)}
          />
        )}
      </div>
      {stage.status === 'running' && <CellProgress stage={stage} />}
      {stage.status === 'cached' && stage.cached_from && (
        <div className="jp-mlops-stage-note" data-testid="mlops-cached-from">
          from run <code>{stage.cached_from}</code>
        </div>
      )}
      {stage.execution?.note && (
        <div className="jp-mlops-stage-note" data-testid="mlops-kernel-note">
          Kernel: {stage.execution.note}
        </div>
      )}
      {metricEntries.length > 0 && (
        <ul
          className="jp-mlops-metrics"
          aria-label={`Metrics of ${stage.stage}`}
        >
          {metricEntries.map(([name, value]) => (
            <li
              key={name}
              className="jp-mlops-metric"
              data-metric={name}
              title={`${name} = ${value}`}
            >
              <span className="jp-mlops-metric-name">{name}</span>
              <span className="jp-mlops-metric-value">
                {formatNumber(value)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {stage.status === 'failed' && (
        <StageFailure stage={stage} actions={actions} />
      )}
    </li>
  );
}

/**
 * The right-hand detail of a stage: where its result came from or how long
 * it took.
 */
function StageInfo(props: { stage: IStageRun }): JSX.Element {
  const { stage } = props;
  let text: string;
  let title: string | undefined;
  if (stage.status === 'cached') {
    text = 'cached';
    title = stage.cached_from
      ? `Reused the result of run ${stage.cached_from}`
      : 'Reused an earlier result';
  } else if (stage.status === 'running') {
    const { cells_done: done, cells_total: total } = stage;
    text =
      typeof total === 'number'
        ? `${done ?? 0}/${total} cells`
        : typeof done === 'number'
          ? `${done} ${plural(done, 'cell')} done`
          : 'running';
  } else if (stage.duration_s !== null && stage.duration_s !== undefined) {
    text = formatDuration(stage.duration_s);
    title = 'Executed';
  } else {
    text = stage.status;
  }
  return (
    <span
      className="jp-mlops-stage-info"
      data-testid="mlops-stage-info"
      title={title}
    >
      {text}
    </span>
  );
}

function CellProgress(props: { stage: IStageRun }): JSX.Element | null {
  const { cells_done: done, cells_total: total } = props.stage;
  if (!total) {
    return null;
  }
  return (
    <progress
      className="jp-mlops-progress"
      value={done ?? 0}
      max={total}
      aria-label={`${done ?? 0} of ${total} cells executed`}
    />
  );
}

/**
 * Why a stage failed: the exception, its traceback and the way to the cell.
 */
function StageFailure(props: {
  stage: IStageRun;
  actions: IStageActions;
}): JSX.Element {
  const { stage, actions } = props;
  const traceback = stage.traceback ? stripAnsi(stage.traceback).trim() : '';
  const summary = [stage.error_name, stage.error_value]
    .filter(Boolean)
    .join(': ');
  return (
    <div className="jp-mlops-stage-error" data-testid="mlops-stage-error">
      <div className="jp-mlops-stage-error-message">
        {stripAnsi(summary || 'The stage failed.')}
      </div>
      {stage.error_cell !== null && stage.error_cell !== undefined && (
        <div className="jp-mlops-stage-error-cell">
          In cell {stage.error_cell} of the notebook
        </div>
      )}
      {traceback && (
        <details className="jp-mlops-traceback">
          <summary>Traceback</summary>
          <pre data-testid="mlops-traceback">{traceback}</pre>
        </details>
      )}
      {(stage.executed_notebook || typeof stage.error_cell === 'number') && (
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-open-failing-cell"
          disabled={actions.opening(stage.stage)}
          onClick={() => actions.open(stage.stage, true)}
        >
          <notebookIcon.react tag="span" className="jp-mlops-button-icon" />
          Open at failing cell
        </button>
      )}
    </div>
  );
}
