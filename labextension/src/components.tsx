import { closeIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatAge } from './format';
import {
  EXTENSION_MISSING,
  IActionError,
  MlopsApiError,
  NETWORK_ERROR
} from './request';

/**
 * The command that enables the server extension, shown when it is missing.
 */
const ENABLE_COMMAND = 'jupyter server extension enable mlops_lab';

/**
 * Explain an error and what to do about it.
 *
 * `title` replaces the generic "Error <status> <type>" heading (e.g. "Could
 * not cancel the run"); `onDismiss` adds a close button.
 */
export function ErrorNotice(props: {
  error: MlopsApiError;
  title?: string;
  testid?: string;
  onDismiss?: () => void;
}): JSX.Element {
  const { error } = props;
  let title: string;
  let body: React.ReactNode;
  if (error.code === EXTENSION_MISSING) {
    title = 'Server extension not enabled';
    body = (
      <>
        <p>The mlops_lab server extension is not enabled. Run:</p>
        <pre className="jp-mlops-command">{ENABLE_COMMAND}</pre>
        <p>then restart JupyterLab.</p>
      </>
    );
  } else if (error.code === NETWORK_ERROR) {
    title = 'Jupyter server unreachable';
    body = <p>{error.message}</p>;
  } else if (error.code === 'WorkspaceNotFoundError') {
    title = 'No workspace';
    body = <p>{withCode(error.message)}</p>;
  } else {
    title =
      props.title ??
      `Error ${error.status || ''} ${error.code}`.replace(/\s+/g, ' ');
    body = <p>{withCode(error.message)}</p>;
  }
  return (
    <div
      className="jp-mlops-error"
      role="alert"
      data-testid={props.testid ?? 'mlops-error'}
      data-code={error.code}
    >
      <div className="jp-mlops-error-title">
        <span>{title}</span>
        {props.onDismiss && (
          <ToolbarButtonComponent
            className="jp-mlops-error-dismiss"
            icon={closeIcon}
            tooltip="Dismiss"
            onClick={props.onDismiss}
          />
        )}
      </div>
      {body}
    </div>
  );
}

/**
 * Render `backticked` parts of a server message as code.
 */
function withCode(message: string): React.ReactNode[] {
  return message
    .split('`')
    .map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part));
}

export function plural(n: number, noun: string): string {
  return n === 1 ? noun : `${noun}s`;
}

/**
 * "12 of 340 runs" under a server-paginated list, with a button loading the
 * next page while there is one.
 */
export function Pager(props: {
  shown: number;
  total: number;
  noun: string;
  loading: boolean;
  onMore: () => void;
  countTestid: string;
  moreTestid: string;
}): JSX.Element | null {
  const { shown, total } = props;
  if (shown === 0) {
    return null;
  }
  return (
    <div className="jp-mlops-pager">
      <span data-testid={props.countTestid}>
        {shown} of {total} {plural(total, props.noun)}
      </span>
      {shown < total && (
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid={props.moreTestid}
          disabled={props.loading}
          onClick={props.onMore}
        >
          Load more
        </button>
      )}
    </div>
  );
}

/**
 * The outcome of a view's last action: why it failed, or what it did. Test
 * ids are `<testid>-action-error` and `<testid>-notice`.
 */
export function ActionFeedback(props: {
  actionError: IActionError | null;
  notice: string | null;
  testid: string;
  onDismiss: () => void;
}): JSX.Element | null {
  const { actionError, notice, testid, onDismiss } = props;
  if (actionError) {
    return (
      <ErrorNotice
        error={actionError.error}
        title={actionError.title}
        testid={`${testid}-action-error`}
        onDismiss={onDismiss}
      />
    );
  }
  if (notice) {
    return (
      <div
        className="jp-mlops-notice"
        role="status"
        data-kind="success"
        data-testid={`${testid}-notice`}
      >
        <span>{notice}</span>
        <ToolbarButtonComponent
          icon={closeIcon}
          tooltip="Dismiss"
          onClick={onDismiss}
        />
      </div>
    );
  }
  return null;
}

/**
 * A short "when": the age, the full time in the tooltip.
 */
export function When(props: { iso: string }): JSX.Element {
  return (
    <time dateTime={props.iso} title={props.iso}>
      {formatAge(props.iso)}
    </time>
  );
}

/**
 * Who decided, when and why, e.g. "Acknowledged by ana 5 min ago: looking
 * into it" (an alert acknowledged, an A/B test closed).
 */
export function Decided(props: {
  verb: string;
  by?: string | null;
  at?: string | null;
  reason?: string | null;
  testid: string;
}): JSX.Element {
  return (
    <p className="jp-mlops-meta" data-testid={props.testid}>
      {props.verb} by {props.by ?? 'someone'}
      {props.at && (
        <>
          {' '}
          <When iso={props.at} />
        </>
      )}
      {props.reason ? `: ${props.reason}` : ''}
    </p>
  );
}

/**
 * The "Only differences" checkbox of a side-by-side comparison.
 */
export function OnlyDifferences(props: {
  checked: boolean;
  onChange: (checked: boolean) => void;
}): JSX.Element {
  return (
    <label className="jp-mlops-compare-only">
      <input
        type="checkbox"
        checked={props.checked}
        data-testid="mlops-compare-only"
        onChange={event => props.onChange(event.currentTarget.checked)}
      />{' '}
      Only differences
    </label>
  );
}
