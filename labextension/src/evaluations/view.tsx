import { HTMLSelect } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { ActionFeedback, ErrorNotice } from '../components';
import { ViewHeader, ViewPanel } from '../listView';
import { MetricOverVersions } from './charts';
import { Alerts } from './alerts';
import { AbTests, Comparisons } from './decisions';
import { DriftReport } from './drift';
import { detailRemote, IRemote, listRemote } from '../viewModel';
import { EvaluationsModel, IEvaluationsState } from './model';
import { ThemeStamp } from './plot';
import { MetricsTable } from './tables';
import { EvaluationBody } from './evaluation';
import { OpenInTab } from '../openInTab';
import { askReason } from './reason';
import { DecisionAction, IAbTest, IAlert, IEvaluationDetail } from './types';
import { versionRows } from './versions';

/**
 * The Evaluations view of the MLOps sidebar: a view of an
 * `EvaluationsModel`. Charts redraw in the new colours when the theme
 * changes.
 */
export class EvaluationsPanel extends ViewPanel<EvaluationsModel> {
  constructor(
    model: EvaluationsModel,
    themeChanged?: ISignal<unknown, unknown> | null,
    tabs?: IEvaluationTabs
  ) {
    super(model, 'Evaluations');
    this._tabs = tabs;
    themeChanged?.connect(this._onTheme, this);
  }

  protected renderState(state: IEvaluationsState): JSX.Element {
    return (
      <ThemeStamp.Provider value={this._stamp}>
        <EvaluationsView model={this.model} state={state} tabs={this._tabs} />
      </ThemeStamp.Provider>
    );
  }

  private _onTheme(): void {
    this._stamp += 1;
    this.update();
  }

  private _tabs?: IEvaluationTabs;
  private _stamp = 0;
}

/**
 * Open an evaluation or a drift report in a main-area tab.
 */
export interface IEvaluationTabs {
  openEvaluation(id: string): void;
  openDrift(id: string): void;
}

function EvaluationsView(props: {
  model: EvaluationsModel;
  state: IEvaluationsState;
  tabs?: IEvaluationTabs;
}): JSX.Element {
  const { model, state, tabs } = props;
  return (
    <div
      className="jp-mlops-body jp-mlops-evaluations"
      data-testid="mlops-evaluations"
    >
      <ViewHeader
        title="Evaluations"
        refreshTestid="mlops-evaluations-refresh"
        onRefresh={() => void model.refresh()}
      />
      <Problem
        remote={listRemote(state)}
        title="The models could not be loaded"
      />
      {state.error?.extensionMissing ? null : (
        <Sections model={model} state={state} tabs={tabs} />
      )}
    </div>
  );
}

/**
 * Everything below the header (left out when the server extension is
 * missing: the header's notice says so once).
 */
function Sections(props: {
  model: EvaluationsModel;
  state: IEvaluationsState;
  tabs?: IEvaluationTabs;
}): JSX.Element {
  const { model, state, tabs } = props;
  const models = state.items;
  const evaluations = state.evaluations.value ?? [];
  const rows = versionRows(evaluations, state.comparisons.value ?? []);
  const alerts = state.alerts.value ?? [];
  return (
    <>
      <ActionFeedback
        actionError={state.actionError}
        notice={state.notice}
        testid="mlops-eval"
        onDismiss={() => model.dismissFeedback()}
      />
      {state.loaded && models.length === 0 && (
        <p className="jp-mlops-placeholder" data-testid="mlops-eval-no-models">
          No models yet: register and evaluate one to see its metrics here.
        </p>
      )}
      {models.length > 0 && (
        <label className="jp-mlops-eval-pick">
          <span>Model</span>
          <HTMLSelect
            aria-label="Model"
            data-testid="mlops-eval-model"
            value={state.model ?? ''}
            onChange={event => void model.setModel(event.currentTarget.value)}
            options={models.map(m => m.name)}
          />
        </label>
      )}
      {state.model && (
        <Section
          title="Metrics"
          testid="mlops-eval-metrics-section"
          count={rows.length}
        >
          <Problem
            remote={state.evaluations}
            title="The evaluations could not be loaded"
          />
          {state.evaluations.value && evaluations.length === 0 ? (
            <p className="jp-mlops-placeholder">
              {state.model} has not been evaluated yet.
            </p>
          ) : (
            <>
              <MetricsTable
                rows={rows}
                selected={state.selected}
                onSelect={id => void model.selectEvaluation(id)}
              />
              <MetricOverVersions
                rows={rows}
                metric={state.metric}
                onMetric={metric => model.setMetric(metric)}
              />
            </>
          )}
        </Section>
      )}
      {state.selected && (
        <EvaluationSection
          remote={detailRemote(state)}
          onOpenTab={tabs && (id => tabs.openEvaluation(id))}
        />
      )}
      {state.model && (
        <Section
          title="Gate decisions"
          testid="mlops-eval-comparisons-section"
          count={state.comparisons.value?.length}
        >
          <Problem
            remote={state.comparisons}
            title="The comparisons could not be loaded"
          />
          {state.comparisons.value?.length === 0 && (
            <p className="jp-mlops-placeholder">
              No version of {state.model} was compared with another yet.
            </p>
          )}
          {!!state.comparisons.value?.length && (
            <Comparisons comparisons={state.comparisons.value} />
          )}
        </Section>
      )}
      <Section
        title="Drift"
        testid="mlops-eval-drift-section"
        count={state.drift.value?.counts.features_drifted}
      >
        <Problem
          remote={state.driftReports}
          title="The drift reports could not be loaded"
        />
        <Problem
          remote={state.drift}
          title="The drift report could not be loaded"
        />
        {state.driftReports.value?.length === 0 && (
          <p className="jp-mlops-placeholder">No drift check has run yet.</p>
        )}
        {state.drift.value && tabs && (
          <OpenInTab
            testid="mlops-drift-open-tab"
            onClick={() =>
              state.drift.value && tabs.openDrift(state.drift.value.id)
            }
          />
        )}
        {state.drift.value && (
          <DriftReport
            reports={state.driftReports.value ?? []}
            report={state.drift.value}
            column={state.driftColumn}
            onReport={id => void model.selectDrift(id)}
            onColumn={column => model.selectDriftColumn(column)}
          />
        )}
      </Section>
      <Section
        title="A/B tests"
        testid="mlops-eval-ab-section"
        count={state.abTests.value?.length}
        open={false}
      >
        <Problem
          remote={state.abTests}
          title="The A/B tests could not be loaded"
        />
        {state.abTests.value?.length === 0 && (
          <p className="jp-mlops-placeholder">No A/B test results yet.</p>
        )}
        {!!state.abTests.value?.length && (
          <AbTests
            tests={state.abTests.value}
            onClose={test => void closeAbTest(model, test)}
          />
        )}
      </Section>
      <Section
        title="Alerts"
        testid="mlops-eval-alerts-section"
        count={alerts.length}
      >
        <Problem remote={state.alerts} title="The alerts could not be loaded" />
        {state.alerts.value && alerts.length === 0 && (
          <p className="jp-mlops-placeholder">No open alerts.</p>
        )}
        {alerts.length > 0 && (
          <Alerts
            alerts={alerts}
            onAct={(alert, action) => void actOnAlert(model, alert, action)}
          />
        )}
      </Section>
    </>
  );
}

/**
 * Ask why, then acknowledge or close the alert.
 */
async function actOnAlert(
  model: EvaluationsModel,
  alert: IAlert,
  action: DecisionAction
): Promise<void> {
  const verb = action === 'close' ? 'Close' : 'Acknowledge';
  const reason = await askReason({
    title: `${verb} alert ${alert.id}`,
    action: verb,
    subject: `${alert.kind} · ${alert.pipeline ?? ''}: ${alert.message}`,
    placeholder:
      action === 'close'
        ? 'Why close it? (e.g. retrained, false alarm: a holiday)'
        : 'Why? (e.g. looking into it)'
  });
  if (reason !== null) {
    await model.actOnAlert(alert.id, action, reason);
  }
}

/**
 * Ask why, then close (archive) the A/B test.
 */
async function closeAbTest(
  model: EvaluationsModel,
  test: IAbTest
): Promise<void> {
  const reason = await askReason({
    title: `Close A/B test ${test.name}`,
    action: 'Close',
    subject: `${test.kind} of ${test.outcome} by ${test.variant_column} on ${test.dataset}@${test.dataset_version}`,
    placeholder: 'Why close it? (e.g. shipped B, inconclusive)'
  });
  if (reason !== null) {
    await model.closeAbTest(test.id, reason);
  }
}

/**
 * The selected evaluation: its curves or residuals, confusion matrix and
 * per-slice metrics.
 */
function EvaluationSection(props: {
  remote: IRemote<IEvaluationDetail>;
  onOpenTab?: (id: string) => void;
}): JSX.Element {
  const { remote, onOpenTab } = props;
  const evaluation = remote.value;
  const title = evaluation
    ? `v${evaluation.version} on ${evaluation.dataset}@${evaluation.dataset_version}`
    : 'Evaluation';
  return (
    <Section title={title} testid="mlops-eval-detail">
      <Problem remote={remote} title="The evaluation could not be loaded" />
      {!evaluation && remote.loading && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {evaluation && (
        <>
          {onOpenTab && (
            <OpenInTab
              testid="mlops-eval-open-tab"
              onClick={() => onOpenTab(evaluation.id)}
            />
          )}
          <EvaluationBody evaluation={evaluation} busy={remote.loading} />
        </>
      )}
    </Section>
  );
}

function Section(props: {
  title: string;
  testid: string;
  count?: number;
  open?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details
      className="jp-mlops-fv-section jp-mlops-eval-section"
      data-testid={props.testid}
      open={props.open ?? true}
    >
      <summary>
        {props.title}
        {props.count !== undefined && (
          <span className="jp-mlops-badge">{props.count}</span>
        )}
      </summary>
      {props.children}
    </details>
  );
}

function Problem(props: {
  remote: IRemote<unknown>;
  title: string;
}): JSX.Element | null {
  const { error } = props.remote;
  return error ? <ErrorNotice error={error} title={props.title} /> : null;
}
