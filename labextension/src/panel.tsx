import { ReactWidget } from '@jupyterlab/apputils';
import {
  buildIcon,
  codeCheckIcon,
  fileIcon,
  LabIcon,
  refreshIcon,
  runIcon,
  tableRowsIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { formatBytes } from './format';
import { StatusModel, StatusState } from './model';
import { EXTENSION_MISSING, MlopsApiError, NETWORK_ERROR } from './request';
import { IStatus, IStatusCounts } from './tokens';

/**
 * The command that enables the server extension, shown when it is missing.
 */
const ENABLE_COMMAND = 'jupyter server extension enable mlops_lab';

/**
 * What each count counts, for tooltips.
 */
const NOUNS: Record<keyof IStatusCounts, string> = {
  datasets: 'dataset',
  feature_views: 'feature view',
  models: 'model',
  evaluations: 'evaluation',
  runs: 'run',
  artifacts: 'artifact'
};

/**
 * The MLOps sidebar panel: a view of a `StatusModel`.
 *
 * The panel never talks to the server itself; it asks the model to refresh
 * when it is shown and when the refresh button is pressed.
 */
export class MlopsPanel extends ReactWidget {
  constructor(model: StatusModel) {
    super();
    this._model = model;
    this.addClass('jp-mlops-panel');
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._model.refresh();
  }

  protected render(): JSX.Element {
    const model = this._model;
    return (
      <UseSignal signal={model.stateChanged} initialArgs={model.state}>
        {(_, state) => (
          <StatusView
            state={state ?? model.state}
            onRefresh={() => void model.refresh()}
          />
        )}
      </UseSignal>
    );
  }

  private _model: StatusModel;
}

/**
 * The whole panel for one state of the model.
 */
export function StatusView(props: {
  state: StatusState;
  onRefresh: () => void;
}): JSX.Element {
  const { state, onRefresh } = props;
  const loading = state.phase === 'loading' || state.phase === 'idle';
  return (
    <div
      className="jp-mlops-body"
      data-testid="mlops-panel"
      data-phase={state.phase}
      aria-busy={loading}
    >
      <div className="jp-mlops-header">
        <h2 className="jp-mlops-title">MLOps</h2>
        <ToolbarButtonComponent
          className="jp-mlops-refresh"
          icon={refreshIcon}
          tooltip="Refresh"
          label=""
          dataset={{ testid: 'mlops-refresh' }}
          onClick={onRefresh}
        />
      </div>
      {state.error && <ErrorNotice error={state.error} />}
      {state.status && <StatusDetails status={state.status} />}
      {loading && !state.status && (
        <p className="jp-mlops-placeholder" data-testid="mlops-loading">
          Loading…
        </p>
      )}
    </div>
  );
}

/**
 * Workspace facts and the catalog counts.
 */
function StatusDetails(props: { status: IStatus }): JSX.Element {
  const { workspace, catalog, counts } = props.status;
  return (
    <>
      <section className="jp-mlops-workspace" aria-label="Workspace">
        <div
          className="jp-mlops-workspace-name"
          data-testid="mlops-workspace-name"
        >
          {workspace.name}
        </div>
        <div
          className="jp-mlops-workspace-path"
          data-testid="mlops-workspace-path"
          title={workspace.path}
        >
          {workspace.path}
        </div>
        <div className="jp-mlops-meta">
          Catalog schema{' '}
          <span data-testid="mlops-schema-version">
            v{catalog.schema_version}
          </span>
          <span className="jp-mlops-meta-sep">·</span>
          mlops-lab {props.status.version}
        </div>
      </section>
      <ul className="jp-mlops-sections" aria-label="Catalog">
        <SectionRow
          title="Features"
          icon={tableRowsIcon}
          kind="feature_views"
          counts={counts}
          detail={
            <>
              <Count kind="datasets" counts={counts} />{' '}
              {plural(counts.datasets, 'dataset')}
            </>
          }
        />
        <SectionRow
          title="Models"
          icon={buildIcon}
          kind="models"
          counts={counts}
        />
        <SectionRow
          title="Evaluations"
          icon={codeCheckIcon}
          kind="evaluations"
          counts={counts}
        />
        <SectionRow title="Runs" icon={runIcon} kind="runs" counts={counts} />
        <SectionRow
          title="Artifacts"
          icon={fileIcon}
          kind="artifacts"
          counts={counts}
          detail={
            <span data-testid="mlops-artifacts-size">
              {formatBytes(props.status.artifacts_bytes)}
            </span>
          }
        />
      </ul>
    </>
  );
}

/**
 * One catalog section: icon, title, optional detail line and count badge.
 */
function SectionRow(props: {
  title: string;
  icon: LabIcon;
  kind: keyof IStatusCounts;
  counts: IStatusCounts;
  detail?: React.ReactNode;
}): JSX.Element {
  return (
    <li className="jp-mlops-section" data-section={props.kind}>
      <props.icon.react className="jp-mlops-section-icon" tag="span" />
      <div className="jp-mlops-section-text">
        <div className="jp-mlops-section-title">{props.title}</div>
        {props.detail && (
          <div className="jp-mlops-section-detail">{props.detail}</div>
        )}
      </div>
      <Count kind={props.kind} counts={props.counts} badge />
    </li>
  );
}

/**
 * A count, tagged with its kind so tests and styles can find it.
 */
function Count(props: {
  kind: keyof IStatusCounts;
  counts: IStatusCounts;
  badge?: boolean;
}): JSX.Element {
  const n = props.counts[props.kind];
  const className = props.badge
    ? 'jp-mlops-count jp-mlops-badge'
    : 'jp-mlops-count';
  return (
    <span
      className={className}
      data-kind={props.kind}
      title={`${n} ${plural(n, NOUNS[props.kind])}`}
    >
      {n}
    </span>
  );
}

/**
 * Explain an error and what to do about it.
 */
function ErrorNotice(props: { error: MlopsApiError }): JSX.Element {
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
    title = `Error ${error.status || ''} ${error.code}`.replace(/\s+/g, ' ');
    body = <p>{withCode(error.message)}</p>;
  }
  return (
    <div
      className="jp-mlops-error"
      role="alert"
      data-testid="mlops-error"
      data-code={error.code}
    >
      <div className="jp-mlops-error-title">{title}</div>
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

function plural(n: number, noun: string): string {
  return n === 1 ? noun : `${noun}s`;
}
