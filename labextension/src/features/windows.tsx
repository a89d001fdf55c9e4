import * as React from 'react';

import { plural } from '../components';
import { formatDateTime, formatNumber } from '../format';
import { IFeature, IFeatureViewDetail, IStatsAsOf } from './types';

/**
 * A window feature in words: what it aggregates over which window, then
 * (quieter) the exact rule, e.g. "(events with time in (t - 7d, t]; ...)".
 */
export function WindowDefinition(props: { definition: string }): JSX.Element {
  const { definition } = props;
  const at = definition.endsWith(')') ? definition.indexOf(' (') : -1;
  return (
    <p
      className="jp-mlops-feature-definition"
      data-testid="mlops-feature-definition"
    >
      {at < 0 ? (
        definition
      ) : (
        <>
          {definition.slice(0, at)}{' '}
          <span className="jp-mlops-feature-rule">
            {definition.slice(at + 1)}
          </span>
        </>
      )}
    </p>
  );
}

/**
 * What a window view's statistics are: values as of the source's last
 * event, one per entity; and the windows longer than the source's span.
 * Nothing for a plain view.
 */
export function StatsAsOf(props: { features: IFeature[] }): JSX.Element | null {
  const about = props.features.find(f => f.stats_as_of)?.stats_as_of;
  if (!about) {
    return null;
  }
  const longer = [
    ...new Set(
      props.features.flatMap(f => f.stats_as_of?.longer_than_span ?? [])
    )
  ];
  return (
    <div className="jp-mlops-fv-stats-about">
      <p data-testid="mlops-fv-stats-as-of" title={about.note}>
        Statistics as of{' '}
        {about.as_of ? (
          <>
            <time dateTime={about.as_of}>{formatDateTime(about.as_of)}</time>{' '}
            (the source's last event)
          </>
        ) : (
          "the source's last event"
        )}
        , one value per entity
      </p>
      {longer.length > 0 && (
        <p data-testid="mlops-fv-long-windows">
          {plural(longer.length, 'Window')} {longer.join(', ')} longer than the
          source's span{spanDays(about)}: allowed
        </p>
      )}
    </div>
  );
}

/**
 * A window view computed by an older mlops-lab (values as of each event):
 * say it is recomputed on first use, and how to do it ahead of time.
 */
export function LegacyWindowsNotice(props: {
  detail: IFeatureViewDetail;
}): JSX.Element | null {
  const { detail } = props;
  if (detail.table_format !== 'event_windows') {
    return null;
  }
  return (
    <p className="jp-mlops-fv-legacy" role="note" data-testid="mlops-fv-legacy">
      Computed with the old per-event windows; recomputed on first use (
      <code>mlops-lab features rebuild {detail.name}</code>)
    </p>
  );
}

/**
 * " of 180 days", or nothing when the span is unknown.
 */
function spanDays(about: IStatsAsOf): string {
  const seconds = about.span_seconds;
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) {
    return '';
  }
  const days = seconds / 86400;
  const shown = Number(days.toFixed(days < 10 ? 1 : 0));
  return ` of ${formatNumber(shown)} ${plural(shown, 'day')}`;
}
