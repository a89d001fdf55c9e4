import * as React from 'react';

import { ActionFeedback as SharedFeedback } from '../components';
import { byMetric, formatNumber } from '../format';
import { IModelsState, ModelsModel } from './model';

/**
 * Metrics shown in a version row, at most; all are in the version detail.
 */
const ROW_METRICS = 3;

/**
 * Aliases as badges, `champion` first.
 */
export function AliasBadges(props: {
  aliases: readonly string[];
  /**
   * Alias -> version, to show which version each alias points at.
   */
  versions?: Record<string, number>;
}): JSX.Element | null {
  const aliases = [...props.aliases].sort(byAlias);
  if (!aliases.length) {
    return null;
  }
  return (
    <span className="jp-mlops-aliases">
      {aliases.map(alias => (
        <span
          key={alias}
          className="jp-mlops-alias"
          data-alias={alias}
          data-testid="mlops-alias"
        >
          {alias}
          {props.versions && (
            <span className="jp-mlops-alias-version">
              v{props.versions[alias]}
            </span>
          )}
        </span>
      ))}
    </span>
  );
}

/**
 * `champion`, then `challenger`, then the rest by name.
 */
export function byAlias(a: string, b: string): number {
  const rank = (alias: string) =>
    alias === 'champion' ? 0 : alias === 'challenger' ? 1 : 2;
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * The storage format; a trusted pickle is flagged (loading it runs code).
 */
export function Flavor(props: {
  flavor: string;
  trusted: boolean;
}): JSX.Element {
  const { flavor, trusted } = props;
  const flagged = trusted && flavor === 'pickle';
  return (
    <span
      className="jp-mlops-flavor"
      data-testid="mlops-flavor"
      data-trusted={flagged ? 'yes' : 'no'}
      title={
        flagged
          ? 'Stored with pickle because it was registered as trusted: ' +
            'loading it runs code.'
          : 'Storage format'
      }
    >
      {flagged ? 'pickle (trusted)' : flavor}
    </span>
  );
}

/**
 * `name value` pairs of metrics, the most looked-at first.
 */
export function Metrics(props: {
  metrics: Record<string, number | null>;
  limit?: number;
}): JSX.Element | null {
  const entries = Object.entries(props.metrics).sort(([a], [b]) =>
    byMetric(a, b)
  );
  const shown = entries.slice(0, props.limit ?? ROW_METRICS);
  if (!shown.length) {
    return null;
  }
  return (
    <span className="jp-mlops-metrics">
      {shown.map(([name, value]) => (
        <span
          key={name}
          className="jp-mlops-metric"
          data-metric={name}
          data-testid="mlops-metric"
        >
          <span className="jp-mlops-metric-name">{name}</span>{' '}
          <span className="jp-mlops-metric-value">{formatNumber(value)}</span>
        </span>
      ))}
      {entries.length > shown.length && (
        <span className="jp-mlops-metric-more">
          +{entries.length - shown.length}
        </span>
      )}
    </span>
  );
}

/**
 * The outcome of the last action: what a promotion did, or why an action
 * failed.
 */
export function ActionFeedback(props: {
  model: ModelsModel;
  state: IModelsState;
}): JSX.Element | null {
  const { model, state } = props;
  return (
    <SharedFeedback
      actionError={state.actionError}
      notice={state.notice}
      testid="mlops-models"
      onDismiss={() => model.dismiss()}
    />
  );
}
