import * as React from 'react';

import { Decided, When } from '../components';
import { DecisionAction, IAlert } from './types';

/**
 * Active alerts: which pipeline raised them, what the latest occurrence
 * says, how often the rule fired, and who acknowledged them and why.
 * Buttons acknowledge or close one (asking why).
 */
export function Alerts(props: {
  alerts: IAlert[];
  onAct: (alert: IAlert, action: DecisionAction) => void;
}): JSX.Element {
  return (
    <ul className="jp-mlops-cards" data-testid="mlops-alerts">
      {props.alerts.map(alert => (
        <li
          key={alert.id}
          className="jp-mlops-card jp-mlops-alert"
          data-testid="mlops-alert"
          data-alert={alert.id}
          data-kind={alert.kind}
          data-status={alert.status}
        >
          <div className="jp-mlops-card-head">
            <span>
              <strong>{alert.kind}</strong>
              {alert.pipeline && (
                <span className="jp-mlops-meta">
                  {' '}
                  · pipeline <code>{alert.pipeline}</code>
                </span>
              )}
            </span>
            <span
              className="jp-mlops-eval-state"
              data-status={alert.status}
              data-testid="mlops-alert-status"
            >
              {alert.status}
            </span>
          </div>
          <p className="jp-mlops-card-reason" data-testid="mlops-alert-message">
            {alert.message}
          </p>
          <p className="jp-mlops-meta" data-testid="mlops-alert-seen">
            {alert.occurrences > 1 ? (
              <>
                Fired {alert.occurrences} times, first{' '}
                <When iso={alert.created_at} />, last{' '}
                <When iso={alert.last_seen_at} />
              </>
            ) : (
              <>
                Raised <When iso={alert.created_at} />
              </>
            )}
          </p>
          {alert.status === 'acknowledged' && (
            <Decided
              verb="Acknowledged"
              by={alert.acknowledged_by}
              at={alert.acknowledged_at}
              reason={alert.acknowledge_reason}
              testid="mlops-alert-ack"
            />
          )}
          <div className="jp-mlops-card-buttons">
            {alert.status === 'open' && (
              <button
                type="button"
                className="jp-mlops-eval-action"
                data-testid="mlops-alert-acknowledge"
                title="Mark as seen, saying why (it stays active: ct still retrains on it)"
                onClick={() => props.onAct(alert, 'acknowledge')}
              >
                Acknowledge…
              </button>
            )}
            <button
              type="button"
              className="jp-mlops-eval-action"
              data-testid="mlops-alert-close"
              title="Close, saying why (ct no longer acts on it)"
              onClick={() => props.onAct(alert, 'close')}
            >
              Close…
            </button>
          </div>
        </li>
      ))}
    </ul>
  );
}
