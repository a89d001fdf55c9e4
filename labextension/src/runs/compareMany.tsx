import * as React from 'react';

import { OnlyDifferences } from '../components';
import {
  byMetric,
  formatDelta,
  formatMetric,
  formatRelativeChange,
  formatStarted,
  formatValue
} from '../format';
import { LongValue, WideTable } from '../widetable';
import {
  IComparedMetric,
  IComparedParameter,
  IComparedRun,
  IRunsComparison
} from './compareTypes';
import { ComparisonChart } from './parallel';

/**
 * What a comparison tab can do besides showing: open a run in its own tab,
 * make another run the baseline.
 */
export interface ICompareActions {
  onOpenRun?: (runId: string) => void;
  onBaseline?: (runId: string) => void;
}

/**
 * Two or more runs side by side, the first the baseline: the metrics (each
 * run's value, its delta from the baseline coloured better or worse by the
 * metric's direction, with a ▲/▼ so it reads without colour, the best run
 * starred), the parameters (the ones that differ marked), then a chart of
 * parameters against a chosen metric.
 *
 * Takes its data as props (no model, no fetch).
 */
export function RunsComparisonView(
  props: { comparison: IRunsComparison } & ICompareActions
): JSX.Element {
  const { comparison } = props;
  const [only, setOnly] = React.useState(false);
  const runs = comparison.runs;
  const metrics = [...comparison.metrics].sort(
    (a, b) => byMetric(a.name, b.name) || a.stage.localeCompare(b.stage)
  );
  const differing = comparison.parameters.filter(p => p.differs).length;
  const parameters = only
    ? comparison.parameters.filter(p => p.differs)
    : comparison.parameters;
  const heads = runs.map((run, i) => (
    <RunHead key={run.id} run={run} baseline={i === 0} {...props} />
  ));
  return (
    <div
      className="jp-mlops-compare jp-mlops-compare-many"
      data-testid="mlops-compare-many"
      data-runs={runs.map(r => r.id).join(',')}
    >
      <p className="jp-mlops-compare-summary">
        {runs.length} runs; deltas from the baseline{' '}
        <code>{comparison.baseline}</code>;{' '}
        <span data-testid="mlops-compare-differing">
          {differing} of {comparison.parameters.length} parameters differ
        </span>
        .
      </p>
      <h5 className="jp-mlops-compare-title">Metrics</h5>
      <RunsTable what="Metric" heads={heads} testid="mlops-compare-metrics">
        {metrics.map(metric => (
          <MetricRow key={`${metric.stage}.${metric.name}`} metric={metric} />
        ))}
      </RunsTable>
      <div className="jp-mlops-compare-heading">
        <h5 className="jp-mlops-compare-title">Parameters</h5>
        <OnlyDifferences checked={only} onChange={setOnly} />
      </div>
      <RunsTable
        what="Parameter"
        heads={heads}
        testid="mlops-compare-parameters"
      >
        {parameters.map(parameter => (
          <ParameterRow
            key={`${parameter.stage}.${parameter.name}`}
            parameter={parameter}
          />
        ))}
      </RunsTable>
      <ComparisonChart comparison={comparison} />
    </div>
  );
}

function RunHead(
  props: { run: IComparedRun; baseline: boolean } & ICompareActions
): JSX.Element {
  const { run, baseline, onOpenRun, onBaseline } = props;
  return (
    <th
      scope="col"
      data-run-id={run.id}
      data-baseline={baseline}
      title={`${run.pipeline ?? 'run'} · ${run.status} · started ${new Date(run.started_at).toLocaleString()}`}
    >
      {onOpenRun ? (
        <button
          type="button"
          className="jp-mlops-link jp-mlops-compare-run"
          data-testid="mlops-compare-open-run"
          onClick={() => onOpenRun(run.id)}
        >
          {run.id}
        </button>
      ) : (
        <span className="jp-mlops-compare-run">{run.id}</span>
      )}
      <span className="jp-mlops-compare-run-meta">
        {baseline ? (
          <span
            className="jp-mlops-compare-baseline"
            data-testid="mlops-compare-baseline"
          >
            baseline
          </span>
        ) : onBaseline ? (
          <button
            type="button"
            className="jp-mlops-link"
            data-testid="mlops-compare-make-baseline"
            title="Compare the other runs with this one"
            onClick={() => onBaseline(run.id)}
          >
            make baseline
          </button>
        ) : null}{' '}
        {formatStarted(run.started_at)}
      </span>
    </th>
  );
}

function MetricRow(props: { metric: IComparedMetric }): JSX.Element {
  const { metric } = props;
  const direction = metric.higher_is_better
    ? 'higher is better'
    : 'lower is better';
  return (
    <tr
      data-testid="mlops-compare-metric"
      data-name={metric.name}
      data-stage={metric.stage}
    >
      <Name stage={metric.stage} name={metric.name} hint={direction}>
        <span
          className="jp-mlops-compare-direction"
          data-testid="mlops-compare-direction"
          aria-label={direction}
        >
          {metric.higher_is_better ? '↑' : '↓'}
        </span>
      </Name>
      {metric.values.map((value, i) => (
        <td
          key={i}
          className="jp-mlops-num"
          data-missing={metric.missing[i]}
          data-best={metric.best === i}
        >
          <span className="jp-mlops-compare-value">
            {metric.missing[i] ? <Missing /> : formatMetric(value)}
            {metric.best === i && (
              <span
                className="jp-mlops-compare-best"
                title={`Best (${direction})`}
                aria-label="best"
              >
                {' ★'}
              </span>
            )}
          </span>
          {i > 0 && <Delta metric={metric} index={i} direction={direction} />}
        </td>
      ))}
    </tr>
  );
}

/**
 * A run's change from the baseline: signed, coloured by the metric's
 * direction, with ▲ (better) or ▼ (worse) from the shared delta style.
 */
function Delta(props: {
  metric: IComparedMetric;
  index: number;
  direction: string;
}): JSX.Element | null {
  const { metric, index, direction } = props;
  const delta = metric.deltas[index];
  if (delta === null || delta === undefined) {
    return null;
  }
  const change = metric.changes[index] ?? null;
  const relative = formatRelativeChange(delta, metric.values[0]);
  const verdict =
    change === 'better' || change === 'worse'
      ? `${change} than the baseline`
      : 'same as the baseline';
  return (
    <span
      className="jp-mlops-delta jp-mlops-compare-delta"
      data-change={change ?? 'none'}
      data-testid="mlops-delta"
      title={[verdict, relative && `${relative} from the baseline`, direction]
        .filter(Boolean)
        .join(' · ')}
      aria-label={`${formatDelta(delta)}, ${verdict}`}
    >
      {formatDelta(delta)}
    </span>
  );
}

function ParameterRow(props: { parameter: IComparedParameter }): JSX.Element {
  const { parameter } = props;
  return (
    <tr
      data-testid="mlops-compare-parameter"
      data-name={parameter.name}
      data-stage={parameter.stage}
      data-differs={parameter.differs}
    >
      <Name
        stage={parameter.stage}
        name={parameter.name}
        hint={
          parameter.differs
            ? 'differs between the runs'
            : 'the same in every run'
        }
      >
        {parameter.differs && (
          <span
            className="jp-mlops-compare-differs"
            aria-label="differs"
            title="Differs between the runs"
          >
            ≠
          </span>
        )}
      </Name>
      {parameter.values.map((value, i) => (
        <td
          key={i}
          data-missing={parameter.missing[i]}
          data-changed={
            i > 0 &&
            (parameter.missing[i] !== parameter.missing[0] ||
              formatValue(value) !== formatValue(parameter.values[0]))
          }
        >
          {parameter.missing[i] ? (
            <Missing />
          ) : (
            <LongValue text={formatValue(value)} limit={24} />
          )}
        </td>
      ))}
    </tr>
  );
}

function Name(props: {
  stage: string;
  name: string;
  hint: string;
  children?: React.ReactNode;
}): JSX.Element {
  const { stage, name } = props;
  return (
    <th
      scope="row"
      title={`${name}${stage ? ` in stage ${stage}` : ''}: ${props.hint}`}
    >
      <span className="jp-mlops-compare-name">{name}</span>
      {props.children}
      {stage && <span className="jp-mlops-table-stage">{stage}</span>}
    </th>
  );
}

function Missing(): JSX.Element {
  return (
    <span
      className="jp-mlops-compare-missing"
      title="This run has none"
      data-testid="mlops-compare-missing"
    >
      missing
    </span>
  );
}

/**
 * Rows of metrics or parameters, one column per run (the heads), the names
 * sticky while the runs scroll sideways.
 */
function RunsTable(props: {
  what: 'Metric' | 'Parameter';
  heads: JSX.Element[];
  testid: string;
  children: JSX.Element[];
}): JSX.Element {
  const { what, heads } = props;
  return (
    <WideTable
      columns={heads.length + 1}
      label={`${what}s of the compared runs`}
      testid={props.testid}
      first="12em"
      column="9em"
    >
      <thead>
        <tr>
          <th scope="col">{what}</th>
          {heads}
        </tr>
      </thead>
      <tbody>
        {props.children.length === 0 && (
          <tr>
            <td colSpan={heads.length + 1} className="jp-mlops-table-empty">
              None recorded
            </td>
          </tr>
        )}
        {props.children}
      </tbody>
    </WideTable>
  );
}
