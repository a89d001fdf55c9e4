import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { notebookIcon, refreshIcon, runIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DetailShell } from '../listView';
import { ActionFeedback as SharedFeedback } from '../components';
import { formatAge, formatStarted } from '../format';
import { OpenInTab } from '../openInTab';
import { Contract, Report } from './contract';
import { Counts, Findings, MetricsComparison, StatusBadge } from './findings';
import { HandoffsModel, IHandoffsState } from './model';
import { failedCleanRun } from './outcomes';
import { IHandoff } from './types';

/**
 * A handoff: its status, actions, findings by check, the metrics
 * comparison, the contract and the report.
 */
export function HandoffDetail(props: {
  model: HandoffsModel;
  state: IHandoffsState;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { model, state, rendermime } = props;
  const { detail } = state;
  const checking = !!detail && state.checking.has(detail.notebook);
  return (
    <DetailShell
      className="jp-mlops-handoff-detail"
      testid="mlops-handoff-detail"
      data={{ 'handoff-id': detail?.id ?? state.selected ?? undefined }}
      busy={state.detailLoading || checking}
      back={{
        label: 'Handoffs',
        tooltip: 'Back to the list of handoffs',
        onClick: () => void model.deselect()
      }}
      ids="mlops-handoff"
      onRefresh={() => void model.refresh()}
      actions={
        <>
          {model.openTab && detail && (
            <OpenInTab
              testid="mlops-handoff-open-tab"
              compact
              onClick={() => model.openTab?.(detail.id)}
            />
          )}
        </>
      }
      state={state}
      shown={!!detail}
      errorTitle="The handoff could not be loaded"
    >
      {detail && (
        <>
          <Head model={model} handoff={detail} />
          <Actions model={model} state={state} handoff={detail} />
          <Feedback model={model} state={state} />
          <section className="jp-mlops-handoff-section" aria-label="Checks">
            <h4 className="jp-mlops-handoff-section-title">Checks</h4>
            <Findings
              handoff={detail}
              onCell={cell => void model.openCell(cell)}
              opening={cell => state.pending.has(`open:${cell}`)}
              onAddParameters={() => void model.addParameters()}
              addingParameters={state.pending.has('parameters')}
            />
          </section>
          <MetricsComparison handoff={detail} />
          <Contract contract={detail.contract} />
          <Report
            report={state.report}
            error={state.reportError}
            rendermime={rendermime}
          />
        </>
      )}
    </DetailShell>
  );
}

function Head(props: { model: HandoffsModel; handoff: IHandoff }): JSX.Element {
  const { model, handoff } = props;
  return (
    <section className="jp-mlops-handoff-head" aria-label="Handoff">
      <div className="jp-mlops-handoff-title">
        <h3>
          <button
            type="button"
            className="jp-mlops-link"
            title={`Open ${handoff.notebook}`}
            data-testid="mlops-handoff-notebook"
            onClick={() => void model.openCell(null)}
          >
            {handoff.notebook}
          </button>
        </h3>
        <StatusBadge status={handoff.status} />
      </div>
      <p className="jp-mlops-meta">
        Stage <code data-testid="mlops-handoff-stage">{handoff.stage}</code> of
        pipeline{' '}
        <code data-testid="mlops-handoff-pipeline">{handoff.pipeline}</code>
        <span className="jp-mlops-meta-sep">·</span>
        <time
          dateTime={handoff.created_at}
          title={formatStarted(handoff.created_at)}
        >
          checked {formatAge(handoff.created_at)}
        </time>{' '}
        by {handoff.created_by}
      </p>
      <Counts counts={handoff.counts} />
      {handoff.stale && (
        <p
          className="jp-mlops-handoff-stale"
          role="status"
          data-testid="mlops-handoff-stale"
        >
          The notebook changed since this check (it was {handoff.checked_status}
          ). Check it again before handing it off.
        </p>
      )}
    </section>
  );
}

function Actions(props: {
  model: HandoffsModel;
  state: IHandoffsState;
  handoff: IHandoff;
}): JSX.Element {
  const { model, state, handoff } = props;
  const checking = state.checking.has(handoff.notebook);
  const failed = failedCleanRun(handoff);
  return (
    <div className="jp-mlops-handoff-actions">
      <button
        type="button"
        className="jp-Button jp-mod-small jp-mlops-button"
        data-testid="mlops-handoff-check-again"
        title="Run every check again: a clean run in a fresh kernel"
        disabled={checking}
        onClick={() => void model.checkAgain()}
      >
        {checking ? (
          <span className="jp-mlops-handoff-spinner" aria-hidden="true" />
        ) : (
          <refreshIcon.react className="jp-mlops-button-icon" tag="span" />
        )}
        {checking ? 'Checking…' : 'Check again'}
      </button>
      {handoff.status === 'ready' && (
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-handoff-run"
          title={`Run stage ${handoff.stage} of pipeline ${handoff.pipeline}`}
          disabled={checking || state.pending.has('run')}
          onClick={() => void model.runStage()}
        >
          <runIcon.react className="jp-mlops-button-icon" tag="span" />
          Run stage
        </button>
      )}
      {failed && (
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-handoff-open-failing"
          title="Open the notebook the clean run executed, at the cell that failed"
          disabled={state.pending.has('executed')}
          onClick={() => void model.openFailingCell()}
        >
          <notebookIcon.react className="jp-mlops-button-icon" tag="span" />
          Open executed notebook at failing cell
        </button>
      )}
      {checking && (
        <p className="jp-mlops-handoff-hint" role="status">
          Running the notebook top to bottom in a fresh kernel…
        </p>
      )}
    </div>
  );
}

/**
 * Why the last action failed, or what it did.
 */
export function Feedback(props: {
  model: HandoffsModel;
  state: IHandoffsState;
}): JSX.Element | null {
  const { model, state } = props;
  return (
    <SharedFeedback
      actionError={state.actionError}
      notice={state.notice}
      testid="mlops-handoffs"
      onDismiss={() => model.dismiss()}
    />
  );
}
