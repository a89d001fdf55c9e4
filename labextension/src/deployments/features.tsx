import * as React from 'react';

import { formatAge, formatStarted } from '../format';
import { IServerMetadata } from './types';

/**
 * The features each variant reads from the online store, and when each
 * view was last materialized.
 */
export function OnlineFeatures(props: {
  metadata: IServerMetadata;
}): JSX.Element {
  const { served, feature_freshness } = props.metadata;
  const freshness = Object.entries(feature_freshness).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-online-features"
      open
    >
      <summary>Online features</summary>
      {Object.entries(served).map(([variant, slot]) => {
        const views = Object.entries(slot.online_features);
        return (
          <div
            key={variant}
            className="jp-mlops-dp-features"
            data-testid="mlops-online-features-variant"
            data-variant={variant}
          >
            <p className="jp-mlops-dp-features-title">
              {variant} <span className="jp-mlops-meta">v{slot.version}</span>
            </p>
            {views.length === 0 ? (
              <p className="jp-mlops-placeholder">
                None: every feature comes with the request.
              </p>
            ) : (
              <dl className="jp-mlops-facts">
                {views.map(([view, features]) => (
                  <React.Fragment key={view}>
                    <dt>
                      <code>{view}</code>
                    </dt>
                    <dd className="jp-mlops-dp-chips">
                      {features.map(f => (
                        <code key={f} className="jp-mlops-dp-chip">
                          {f}
                        </code>
                      ))}
                    </dd>
                  </React.Fragment>
                ))}
              </dl>
            )}
          </div>
        );
      })}
      {freshness.length > 0 && (
        <dl
          className="jp-mlops-facts jp-mlops-dp-freshness"
          data-testid="mlops-feature-freshness"
        >
          {freshness.map(([view, at]) => (
            <React.Fragment key={view}>
              <dt>
                <code>{view}</code> materialized
              </dt>
              <dd data-view={view}>
                {at ? (
                  <time dateTime={at} title={formatStarted(at)}>
                    {formatAge(at)}
                  </time>
                ) : (
                  'never'
                )}
              </dd>
            </React.Fragment>
          ))}
        </dl>
      )}
    </details>
  );
}
