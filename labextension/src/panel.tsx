import {
  buildIcon,
  caretRightIcon,
  codeCheckIcon,
  fileIcon,
  LabIcon,
  refreshIcon,
  runIcon,
  tableRowsIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice, plural } from './components';
import { formatBytes } from './format';
import { StatusModel, StatusState } from './model';
import { ShownReactWidget } from './shown';
import { IViewNavigator, ViewId } from './sidebar';
import { IStatus, IStatusCounts } from './tokens';

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
 * The Overview of the MLOps sidebar: a view of a `StatusModel`.
 *
 * The panel never talks to the server itself; it asks the model to refresh
 * when it is shown and when the refresh button is pressed. Sections that
 * have a view of their own (e.g. Runs) link to it through `navigator`.
 */
export class MlopsPanel extends ShownReactWidget {
  constructor(
    model: StatusModel,
    navigator?: IViewNavigator,
    openLifecycle?: () => void
  ) {
    super();
    this._model = model;
    this._navigator = navigator ?? null;
    this._openLifecycle = openLifecycle ?? null;
    this.addClass('jp-mlops-panel');
    this.title.label = 'Overview';
  }

  protected onShown(): void {
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
            navigator={this._navigator}
            openLifecycle={this._openLifecycle}
          />
        )}
      </UseSignal>
    );
  }

  private _model: StatusModel;
  private _navigator: IViewNavigator | null;
  private _openLifecycle: (() => void) | null;
}

/**
 * The whole panel for one state of the model.
 */
export function StatusView(props: {
  state: StatusState;
  onRefresh: () => void;
  navigator?: IViewNavigator | null;
  openLifecycle?: (() => void) | null;
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
        <h2 className="jp-mlops-title">Workspace</h2>
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
      {props.openLifecycle && (
        <button
          type="button"
          className="jp-mlops-lifecycle-open"
          data-testid="mlops-open-lifecycle"
          title="Open the Lifecycle view in the main area"
          onClick={props.openLifecycle}
        >
          <span className="jp-mlops-lifecycle-open-title">Lifecycle</span>
          <span className="jp-mlops-section-detail">
            Objective, steps, loops back and the CI/CD/CT/CM timeline
          </span>
        </button>
      )}
      {state.status && (
        <StatusDetails
          status={state.status}
          navigator={props.navigator ?? null}
        />
      )}
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
function StatusDetails(props: {
  status: IStatus;
  navigator: IViewNavigator | null;
}): JSX.Element {
  const { workspace, catalog, counts } = props.status;
  const { navigator } = props;
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
          view="features"
          navigator={navigator}
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
        <SectionRow
          title="Runs"
          icon={runIcon}
          kind="runs"
          counts={counts}
          view="runs"
          navigator={navigator}
        />
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
 * When the sidebar has a view for it, the whole row opens that view.
 */
function SectionRow(props: {
  title: string;
  icon: LabIcon;
  kind: keyof IStatusCounts;
  counts: IStatusCounts;
  detail?: React.ReactNode;
  view?: ViewId;
  navigator?: IViewNavigator | null;
}): JSX.Element {
  const { view, navigator } = props;
  const linked = view !== undefined && !!navigator?.hasView(view);
  const content = (
    <>
      <props.icon.react className="jp-mlops-section-icon" tag="span" />
      <div className="jp-mlops-section-text">
        <div className="jp-mlops-section-title">
          {props.title}
          {linked && (
            <caretRightIcon.react
              className="jp-mlops-section-caret"
              tag="span"
            />
          )}
        </div>
        {props.detail && (
          <div className="jp-mlops-section-detail">{props.detail}</div>
        )}
      </div>
      <Count kind={props.kind} counts={props.counts} badge />
    </>
  );
  return (
    <li className="jp-mlops-section" data-section={props.kind}>
      {linked ? (
        <button
          type="button"
          className="jp-mlops-section-link"
          title={`Show ${props.title}`}
          data-testid={`mlops-open-${view}`}
          onClick={() => navigator?.showView(view)}
        >
          {content}
        </button>
      ) : (
        content
      )}
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
