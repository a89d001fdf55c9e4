/*
 * Streamed views in the Features view: how each view's stream ingest is
 * doing (state, rate, lag, freshness, last event, dead letters, last
 * error), reloaded every few seconds while shown.
 */
import * as React from 'react';

import { formatAge } from '../format';
import { IStreamsState } from './model';
import {
  formatCount,
  formatFreshness,
  formatRate,
  streamName,
  streamSummary
} from './streamFormat';
import { IStreamStatus } from './types';

/**
 * The streams section above the list of views: one card per streamed
 * view, or one line saying how to stream one.
 */
export function StreamsSection(props: {
  streams: IStreamsState;
  onOpen: (view: string) => void;
}): JSX.Element | null {
  const { streams, onOpen } = props;
  if (!streams.loaded && !streams.error) {
    return null;
  }
  return (
    <section
      className="jp-mlops-streams"
      aria-label="Streams"
      data-testid="mlops-streams"
    >
      <h3 className="jp-mlops-streams-title">
        Streams
        {streams.items.length > 0 && (
          <span className="jp-mlops-badge">{streams.items.length}</span>
        )}
      </h3>
      {streams.error && (
        <p className="jp-mlops-stream-error" role="alert">
          The streams could not be loaded: {streams.error.message}
        </p>
      )}
      {streams.loaded && streams.items.length === 0 && (
        <p className="jp-mlops-placeholder" data-testid="mlops-streams-empty">
          No view is streamed. Feed a window view from a broker with{' '}
          <code>mlops-lab ingest VIEW --source redis://…</code>.
        </p>
      )}
      {streams.items.length > 0 && (
        <ul className="jp-mlops-stream-list">
          {streams.items.map(stream => (
            <li key={stream.view}>
              <StreamCard stream={stream} onOpen={onOpen} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * One streamed view: its name (opening it, when `onOpen`), state, stream,
 * numbers and last error.
 */
export function StreamCard(props: {
  stream: IStreamStatus;
  onOpen?: (view: string) => void;
}): JSX.Element {
  const { stream, onOpen } = props;
  const summary = streamSummary(stream);
  const { name, broker } = streamName(stream.source);
  const stats: [string, string, string, string][] = [
    ['rate', 'rate', formatRate(stream.rate), 'Events applied per second'],
    [
      'lag',
      'lag',
      formatCount(stream.lag),
      'Events in the stream not yet delivered to the consumers'
    ],
    [
      'freshness',
      'p99',
      formatFreshness(stream.freshness_ms),
      'Freshness: 99% of recent events were readable online within this time of their publication'
    ],
    [
      'last-event',
      'last event',
      formatAge(stream.last_event_at),
      stream.last_event_at
        ? `Newest event time applied: ${new Date(stream.last_event_at).toLocaleString()}`
        : 'No event applied yet'
    ],
    [
      'dead-letters',
      'dead letters',
      formatCount(stream.dead_letters),
      'Events refused (bad JSON, missing fields, wrong types...) and sent to the dead-letter stream'
    ]
  ];
  return (
    <div
      className="jp-mlops-stream"
      data-testid="mlops-stream"
      data-view={stream.view}
      data-health={summary.health}
    >
      <div className="jp-mlops-stream-head">
        {onOpen ? (
          <button
            type="button"
            className="jp-mlops-stream-view"
            title={`Show ${stream.view}`}
            onClick={() => onOpen(stream.view)}
          >
            {stream.view}
          </button>
        ) : (
          <span className="jp-mlops-stream-view">{stream.view}</span>
        )}
        <span
          className="jp-mlops-stream-health"
          data-health={summary.health}
          data-testid="mlops-stream-health"
          title={summary.title}
        >
          {summary.label}
        </span>
      </div>
      <div className="jp-mlops-stream-source" title={stream.source}>
        {broker && <span className="jp-mlops-stream-broker">{broker}</span>}
        <code>{name}</code>
      </div>
      <dl className="jp-mlops-stream-stats">
        {stats.map(([key, label, value, title]) => (
          <div
            key={key}
            data-stat={key}
            title={title}
            data-nonzero={key === 'dead-letters' && stream.dead_letters > 0}
          >
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {stream.last_error && (
        <p
          className="jp-mlops-stream-error"
          data-testid="mlops-stream-error"
          title={stream.last_error}
        >
          <span className="jp-mlops-stream-error-label">
            Last error
            {stream.last_error_at && ` · ${formatAge(stream.last_error_at)}`}:
          </span>{' '}
          {stream.last_error}
        </p>
      )}
    </div>
  );
}
