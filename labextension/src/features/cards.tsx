/*
 * A feature view's parts shown in its detail: freshness and feature cards.
 */
import * as React from 'react';

import { formatAge, formatNumber, formatShare } from '../format';
import { IFeature, StatValue } from './types';
import { Histogram } from './histogram';
import { WindowDefinition } from './windows';

/**
 * When the online store last got new events, or that it never did.
 */
export function Freshness(props: {
  freshness: string | null | undefined;
}): JSX.Element {
  const { freshness } = props;
  if (!freshness) {
    return (
      <span
        className="jp-mlops-freshness"
        data-fresh="never"
        title="Not materialized into the online store"
      >
        not materialized
      </span>
    );
  }
  return (
    <time
      className="jp-mlops-freshness"
      data-fresh="yes"
      dateTime={freshness}
      title={`Newest event in the online store: ${new Date(freshness).toLocaleString()}`}
    >
      {formatAge(freshness)}
    </time>
  );
}

/**
 * One feature: its type, what it is in words (window features), its
 * statistics and histogram.
 */
export function FeatureCard(props: { feature: IFeature }): JSX.Element {
  const { feature } = props;
  const stats: [string, string, string][] = [
    ['min', 'Minimum', formatStat(feature.min)],
    ['max', 'Maximum', formatStat(feature.max)],
    ['mean', 'Mean', formatNumber(feature.mean)],
    ['nulls', 'Share of missing values', formatShare(feature.null_share)],
    ['distinct', 'Distinct values', formatNumber(feature.distinct)]
  ];
  return (
    <li
      className="jp-mlops-feature"
      data-testid="mlops-feature"
      data-feature={feature.name}
    >
      <div className="jp-mlops-feature-head">
        <code className="jp-mlops-feature-name" title={feature.name}>
          {feature.name}
        </code>
        <span className="jp-mlops-dtype" data-testid="mlops-feature-dtype">
          {feature.dtype}
        </span>
      </div>
      {feature.definition && (
        <WindowDefinition definition={feature.definition} />
      )}
      {feature.description && (
        <p className="jp-mlops-feature-description">{feature.description}</p>
      )}
      <dl className="jp-mlops-stats">
        {stats.map(([key, title, value]) => (
          <div key={key} data-stat={key} title={title}>
            <dt>{key}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <Histogram histogram={feature.histogram} feature={feature.name} />
    </li>
  );
}

/**
 * A min or max: numbers compactly, dates as dates, other values as text.
 */
function formatStat(value: StatValue | undefined): string {
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (value === null || value === undefined) {
    return '–';
  }
  return String(value);
}
