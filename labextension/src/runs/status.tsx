import * as React from 'react';

import { RunStatus, StageStatus } from './types';

/**
 * What a status means, for tooltips and screen readers.
 */
const DESCRIPTIONS: Record<RunStatus | StageStatus, string> = {
  pending: 'Pending: waiting for the stages it needs',
  running: 'Running',
  succeeded: 'Succeeded',
  cached: 'Cached: the result of an earlier run was reused',
  failed: 'Failed',
  skipped: 'Skipped: a stage it needs did not succeed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted: the runner stopped before it finished',
  not_selected:
    'Not selected: left out by --only/--from, and no selected stage needs it',
  interactive: 'Interactive: recorded from a notebook'
};

/**
 * The glyph drawn inside the status circle.
 */
function glyph(status: RunStatus | StageStatus): JSX.Element | null {
  switch (status) {
    case 'succeeded':
    case 'cached':
      return <path d="M4.5 8.2 7 10.6l4.6-5" />;
    case 'failed':
      return <path d="m5.5 5.5 5 5m0-5-5 5" />;
    case 'cancelled':
    case 'skipped':
    case 'not_selected':
      return <path d="M5 8h6" />;
    case 'interrupted':
      return <path d="M8 4.6v4.2M8 11.2v.2" />;
    case 'interactive':
      return <circle cx="8" cy="8" r="1.6" />;
    default:
      return null;
  }
}

/**
 * What a status means, in a sentence (tooltips, screen readers, legend).
 */
export function describeStatus(status: RunStatus | StageStatus): string {
  return DESCRIPTIONS[status] ?? status;
}

/**
 * The status circle's shapes, in a 16 x 16 box: for an `<svg>` of its own
 * or a group inside a larger drawing (the stage graph).
 */
export function StatusShapes(props: {
  status: RunStatus | StageStatus;
}): JSX.Element {
  const { status } = props;
  return (
    <>
      <circle className="jp-mlops-status-disc" cx="8" cy="8" r="7" />
      {status === 'running' && (
        <path className="jp-mlops-status-arc" d="M8 1a7 7 0 0 1 7 7" />
      )}
      <g className="jp-mlops-status-glyph">{glyph(status)}</g>
    </>
  );
}

/**
 * A status as a small coloured circle; the colour comes from the theme
 * (success, error, warn, brand) so it follows light and dark themes.
 */
export function StatusIcon(props: {
  status: RunStatus | StageStatus;
}): JSX.Element {
  const { status } = props;
  const label = describeStatus(status);
  return (
    <span
      className="jp-mlops-status"
      data-status={status}
      title={label}
      role="img"
      aria-label={label}
    >
      <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
        <StatusShapes status={status} />
      </svg>
    </span>
  );
}
