import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatAge, formatShare, formatStarted } from '../format';
import { DeploymentsModel, IDeploymentsState } from './model';
import { formatMs } from './traffic';
import {
  IDeployment,
  IRollout,
  IRolloutAnalysis,
  IRolloutDecision,
  RolloutState
} from './types';

const ACTIVE: RolloutState[] = ['running', 'paused'];

/**
 * Whether a rollout drives the deployment's split now (running or paused).
 */
export function rolloutActive(state: IDeploymentsState): boolean {
  const current = state.rollouts?.current;
  return !!current && ACTIVE.includes(current.state);
}

const STATE_LABEL: Record<RolloutState, string> = {
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  rolled_back: 'rolled back',
  aborted: 'aborted',
  failed: 'failed'
};

/**
 * A deployment's progressive rollout, live: its state, the steps (done,
 * current, to come), Pause / Resume / Abort, and every decision with the
 * numbers it was taken on. Without one, a form to start one.
 */
export function RolloutSection(props: {
  model: DeploymentsModel;
  state: IDeploymentsState;
  deployment: IDeployment;
}): JSX.Element {
  const { model, state, deployment } = props;
  const current = state.rollouts?.current ?? null;
  const pending = state.pending.has('rollout');
  const canStart =
    deployment.status === 'running' &&
    deployment.alive &&
    deployment.challenger !== null &&
    (current === null || !ACTIVE.includes(current.state));
  return (
    <section
      className="jp-mlops-dp-section"
      aria-label="Progressive rollout"
      data-testid="mlops-rollout"
      data-rollout-id={current?.id}
      data-state={current?.state}
    >
      <h4 className="jp-mlops-dp-section-title">
        Progressive rollout
        {current && <span className="jp-mlops-meta">{current.id}</span>}
      </h4>
      {state.rolloutsError && (
        <ErrorNotice
          title="The rollouts could not be loaded"
          error={state.rolloutsError}
        />
      )}
      {current ? (
        <Rollout rollout={current} model={model} pending={pending} />
      ) : (
        <p className="jp-mlops-placeholder">
          No rollout yet: <code>mlops-lab rollout MODEL --to challenger</code>{' '}
          moves the split step by step, judging each step.
        </p>
      )}
      {canStart && <StartRollout model={model} pending={pending} />}
    </section>
  );
}

function Rollout(props: {
  rollout: IRollout;
  model: DeploymentsModel;
  pending: boolean;
}): JSX.Element {
  const { rollout, model, pending } = props;
  const active = ACTIVE.includes(rollout.state);
  const decisions = [...(rollout.decisions ?? [])].reverse();
  return (
    <>
      <div className="jp-mlops-ro-head">
        <span
          className="jp-mlops-ro-state"
          data-state={rollout.state}
          data-testid="mlops-rollout-state"
        >
          {STATE_LABEL[rollout.state]}
        </span>
        <span className="jp-mlops-ro-versions">
          {rollout.model} v{rollout.from_version ?? '?'} → v{rollout.to_version}
        </span>
      </div>
      <Steps rollout={rollout} />
      <p className="jp-mlops-meta" data-testid="mlops-rollout-summary">
        {active
          ? `Step ${rollout.step_index + 1} of ${rollout.steps.length}, ` +
            `challenger at ${formatShare(rollout.split)}; ` +
            `${rollout.interval_s} s per step`
          : rollout.reason}
        {rollout.holds > 0 && active && `; ${rollout.holds} hold(s)`}
        {' · started '}
        <time
          dateTime={rollout.started_at}
          title={formatStarted(rollout.started_at)}
        >
          {formatAge(rollout.started_at)}
        </time>{' '}
        by {rollout.started_by}
      </p>
      {active && !rollout.controller_alive && (
        <p className="jp-mlops-dp-warning" role="status">
          Its controller process is gone: nothing judges the steps. Abort rolls
          it back.
        </p>
      )}
      {active && (
        <div
          className="jp-mlops-dp-control-row"
          role="group"
          aria-label="Rollout actions"
        >
          {rollout.state === 'running' ? (
            <button
              type="button"
              className="jp-Button jp-mod-small jp-mlops-button"
              data-testid="mlops-rollout-pause"
              title="Keep the split where it is and stop judging"
              disabled={pending || rollout.control !== null}
              onClick={() => void model.controlRollout('pause')}
            >
              Pause
            </button>
          ) : (
            <button
              type="button"
              className="jp-Button jp-mod-small jp-mod-accept jp-mlops-button"
              data-testid="mlops-rollout-resume"
              title="Judge the step again over a new window"
              disabled={pending || rollout.control !== null}
              onClick={() => void model.controlRollout('resume')}
            >
              Resume
            </button>
          )}
          <button
            type="button"
            className="jp-Button jp-mod-small jp-mod-warn jp-mlops-button"
            data-testid="mlops-rollout-abort"
            title="Send all traffic back to the champion; the alias stays"
            disabled={pending || rollout.control === 'abort'}
            onClick={() => void abort(model, rollout)}
          >
            Abort
          </button>
          {rollout.control && (
            <span className="jp-mlops-meta">{rollout.control} requested…</span>
          )}
        </div>
      )}
      <details
        className="jp-mlops-fv-section"
        data-testid="mlops-rollout-decisions"
        open
      >
        <summary>
          Decisions
          <span className="jp-mlops-badge">{decisions.length}</span>
        </summary>
        {decisions.length === 0 ? (
          <p className="jp-mlops-placeholder">
            The first step is judged after {rollout.interval_s} s.
          </p>
        ) : (
          <ol className="jp-mlops-ro-decisions">
            {decisions.map(d => (
              <Decision key={d.seq} decision={d} steps={rollout.steps} />
            ))}
          </ol>
        )}
      </details>
    </>
  );
}

/**
 * The steps as chips: done, the current one, and those to come.
 */
function Steps(props: { rollout: IRollout }): JSX.Element {
  const { rollout } = props;
  const finished = rollout.state === 'completed';
  return (
    <ol className="jp-mlops-ro-steps" aria-label="Steps">
      {rollout.steps.map((share, index) => {
        const status =
          finished || index < rollout.step_index
            ? 'done'
            : index === rollout.step_index
              ? ACTIVE.includes(rollout.state)
                ? 'current'
                : 'stopped'
              : 'todo';
        return (
          <li
            key={index}
            className="jp-mlops-ro-step"
            data-status={status}
            data-testid="mlops-rollout-step"
          >
            {formatShare(share)}
          </li>
        );
      })}
    </ol>
  );
}

function Decision(props: {
  decision: IRolloutDecision;
  steps: number[];
}): JSX.Element {
  const { decision, steps } = props;
  return (
    <li
      className="jp-mlops-ro-decision"
      data-decision={decision.decision}
      data-testid="mlops-rollout-decision"
    >
      <div className="jp-mlops-ro-decision-head">
        <span className="jp-mlops-ro-kind">{decision.decision}</span>
        <span className="jp-mlops-meta">
          {decision.decision === 'promote'
            ? 'after the last step'
            : `step ${decision.step_index + 1}/${steps.length} at ` +
              formatShare(decision.split)}{' '}
          ·{' '}
          <time
            dateTime={decision.decided_at}
            title={formatStarted(decision.decided_at)}
          >
            {formatAge(decision.decided_at)}
          </time>
        </span>
      </div>
      <p className="jp-mlops-ro-reason">{decision.reason}</p>
      {decision.analysis && <Numbers analysis={decision.analysis} />}
    </li>
  );
}

/**
 * Requests, 5xx rate and p99 per variant over the step's window, then the
 * prediction drift and the A/B test.
 */
function Numbers(props: { analysis: IRolloutAnalysis }): JSX.Element {
  const { variants, drift, ab, window_s } = props.analysis;
  return (
    <>
      <table
        className="jp-mlops-table jp-mlops-ro-numbers"
        aria-label={`The step's ${window_s} s window`}
      >
        <thead>
          <tr>
            <th />
            <th className="jp-mlops-num">req</th>
            <th className="jp-mlops-num">5xx</th>
            <th className="jp-mlops-num">p99</th>
          </tr>
        </thead>
        <tbody>
          {['champion', 'challenger'].map(name => {
            const numbers = variants[name];
            return (
              <tr key={name} data-variant={name}>
                <th scope="row">{name}</th>
                <td className="jp-mlops-num" data-column="requests">
                  {numbers?.requests ?? 0}
                </td>
                <td
                  className="jp-mlops-num"
                  data-column="error-rate"
                  data-bad={(numbers?.server_errors ?? 0) > 0}
                >
                  {formatShare(numbers?.error_rate ?? null)}
                </td>
                <td className="jp-mlops-num" data-column="p99">
                  {formatMs(numbers?.p99_ms)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="jp-mlops-meta" data-testid="mlops-rollout-drift">
        Drift:{' '}
        {drift.status === 'measured'
          ? `PSI ${drift.psi?.toFixed(3)}, KS ${drift.ks_statistic?.toFixed(2)}`
          : drift.status}
        {' · A/B: '}
        {ab.status === 'measured'
          ? `${ab.outcome} ${signed(ab.difference)} [${signed(ab.ci_low)}, ` +
            `${signed(ab.ci_high)}]`
          : ab.status}
      </p>
    </>
  );
}

function signed(value: number | undefined): string {
  return value === undefined
    ? '–'
    : `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}

/**
 * Start a rollout of the challenger: steps (percent) and the interval; the
 * bounds come from the project's settings.
 */
function StartRollout(props: {
  model: DeploymentsModel;
  pending: boolean;
}): JSX.Element {
  const { model, pending } = props;
  const [steps, setSteps] = React.useState('5,25,50,100');
  const [interval, setInterval] = React.useState(60);
  const parsed = steps
    .split(',')
    .map(s => Number(s.trim()))
    .filter(n => Number.isFinite(n) && n > 0);
  const valid =
    parsed.length > 0 &&
    parsed[parsed.length - 1] === 100 &&
    parsed.every((n, i) => i === 0 || n > parsed[i - 1]) &&
    interval > 0;
  return (
    <div className="jp-mlops-ro-start" data-testid="mlops-rollout-start">
      <label>
        Steps, %
        <input
          type="text"
          className="jp-mod-styled"
          value={steps}
          aria-label="Steps, percent"
          disabled={pending}
          onChange={event => setSteps(event.target.value)}
        />
      </label>
      <label>
        Interval, s
        <input
          type="number"
          min={1}
          className="jp-mod-styled"
          value={interval}
          aria-label="Interval, seconds"
          disabled={pending}
          onChange={event => setInterval(Number(event.target.value))}
        />
      </label>
      <button
        type="button"
        className="jp-Button jp-mod-small jp-mod-accept jp-mlops-button"
        data-testid="mlops-rollout-start-button"
        title="Steps increase and end at 100; the project's serving settings bound each step"
        disabled={pending || !valid}
        onClick={() =>
          void model.startRollout({ steps: parsed, interval_s: interval })
        }
      >
        Start rollout
      </button>
    </div>
  );
}

async function abort(
  model: DeploymentsModel,
  rollout: IRollout
): Promise<void> {
  const result = await showDialog({
    title: 'Abort the rollout',
    body:
      `Send all traffic back to the champion (v${rollout.from_version ?? '?'})` +
      `? ${rollout.model}@${rollout.alias} stays where it is.`,
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: 'Abort', ariaLabel: 'Abort' })
    ]
  });
  if (result.button.accept) {
    await model.controlRollout('abort');
  }
}
