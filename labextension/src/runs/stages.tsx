import {
  notebookIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { plural } from '../components';
import { formatDuration, formatNumber, stripAnsi } from '../format';
import { IStageRun } from './types';
import { IStageNode, StageGraph } from './graph';
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
 * A run's stages: their graph (click a stage to open its executed notebook),
 * then one card per stage in dependency order with what the graph cannot
 * hold: metrics, where a cached result came from, why a stage failed.
 */
export function StageDag(props: {
  stages: readonly IStageRun[];
  metrics: Record<string, Record<string, number>> | undefined;
  actions: IStageActions;
  label?: string;
}): JSX.Element {
  const { actions } = props;
  const stages = React.useMemo(
    () => [...props.stages].sort((a, b) => a.position - b.position),
    [props.stages]
  );
  const nodes = React.useMemo(() => stages.map(stageNode), [stages]);
  if (!stages.length) {
    return <p className="jp-mlops-placeholder">No stages recorded.</p>;
  }
  return (
    <>
      <StageGraph
        nodes={nodes}
        label={props.label ?? 'Stage graph'}
        onOpen={stage => actions.open(stage, false)}
        opening={stage => actions.opening(stage)}
      />
      <ol className="jp-mlops-stages" aria-label="Stages">
        {stages.map(stage => (
          <StageRow
            key={stage.stage}
            stage={stage}
            metrics={props.metrics?.[stage.stage]}
            actions={actions}
          />
        ))}
      </ol>
    </>
  );
}

/**
 * A run's stage as the graph draws it.
 */
export function stageNode(stage: IStageRun): IStageNode {
  return {
    name: stage.stage,
    needs: stage.needs,
    notebook: stage.notebook,
    status: stage.status,
    info: stageInfo(stage).text,
    openable: !!stage.executed_notebook
  };
}

function StageRow(props: {
  stage: IStageRun;
  metrics: Record<string, number> | undefined;
  actions: IStageActions;
}): JSX.Element {
  const { stage, metrics, actions } = props;
  const metricEntries = Object.entries(metrics ?? {});
  return (
    <li
      className="jp-mlops-stage"
      data-stage={stage.stage}
      data-status={stage.status}
      data-testid="mlops-stage"
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
  const { text, title } = stageInfo(props.stage);
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

/**
 * What a stage's detail says, and its tooltip.
 */
export function stageInfo(stage: IStageRun): { text: string; title?: string } {
  if (stage.status === 'cached') {
    return {
      text: 'cached',
      title: stage.cached_from
        ? `Reused the result of run ${stage.cached_from}`
        : 'Reused an earlier result'
    };
  }
  if (stage.status === 'running') {
    const { cells_done: done, cells_total: total } = stage;
    return {
      text:
        typeof total === 'number'
          ? `${done ?? 0}/${total} cells`
          : typeof done === 'number'
            ? `${done} ${plural(done, 'cell')} done`
            : 'running'
    };
  }
  if (stage.duration_s !== null && stage.duration_s !== undefined) {
    return { text: formatDuration(stage.duration_s), title: 'Executed' };
  }
  return { text: stage.status };
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
