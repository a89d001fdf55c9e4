import {
  editIcon,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice, When } from '../components';
import { ILifecycleApi } from './api';
import { Flow } from './flow';
import { ProjectForm } from './formView';
import { ILifecycleState } from './model';
import { HealthDot } from './parts';
import { attention, projectFacts } from './present';
import { Timeline } from './timeline';
import { ILifecycle, ILifecycleLink, IProject } from './types';

/**
 * What the view does with the world: open a link's item, save the
 * definition, refresh.
 */
export interface ILifecycleActions {
  api: ILifecycleApi;
  refresh: () => void;
  openLink: (link: ILifecycleLink) => void;
}

/**
 * The Lifecycle view: the project card, the steps as a flow with the loops
 * back beneath it, and the timeline of CI/CD/CT/CM events.
 */
export function LifecycleView(props: {
  state: ILifecycleState;
  actions: ILifecycleActions;
}): JSX.Element {
  const { state, actions } = props;
  const { lifecycle } = state;
  const [editing, setEditing] = React.useState(false);
  return (
    <div
      className="jp-mlops-lifecycle"
      data-testid="mlops-lifecycle"
      aria-busy={state.loading}
    >
      <div className="jp-mlops-tab-header">
        <h2 className="jp-mlops-tab-title">Lifecycle</h2>
        {lifecycle && (
          <span className="jp-mlops-meta" data-testid="mlops-lifecycle-updated">
            as of <When iso={lifecycle.generated_at} />
          </span>
        )}
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Refresh"
          dataset={{ testid: 'mlops-lifecycle-refresh' }}
          onClick={actions.refresh}
        />
      </div>
      {state.error && (
        <ErrorNotice
          error={state.error}
          title="The lifecycle could not be loaded"
          testid="mlops-lifecycle-error"
        />
      )}
      {!lifecycle && state.loading && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {lifecycle &&
        (editing ? (
          <ProjectForm
            api={actions.api}
            project={lifecycle.project}
            onClose={saved => {
              setEditing(false);
              if (saved) {
                actions.refresh();
              }
            }}
          />
        ) : (
          <ProjectCard
            project={lifecycle.project}
            onEdit={() => setEditing(true)}
          />
        ))}
      {lifecycle && <Attention lifecycle={lifecycle} />}
      {lifecycle && <Flow lifecycle={lifecycle} openLink={actions.openLink} />}
      {lifecycle && (
        <Timeline events={lifecycle.timeline} openLink={actions.openLink} />
      )}
    </div>
  );
}

/**
 * What the project is for, on top; a call to define it when it is not.
 */
function ProjectCard(props: {
  project: IProject;
  onEdit: () => void;
}): JSX.Element {
  const { project, onEdit } = props;
  if (!project.defined) {
    return (
      <section
        className="jp-mlops-lc-project"
        data-testid="mlops-lifecycle-project"
        data-defined="false"
      >
        <h3 className="jp-mlops-lc-problem">No project definition yet</h3>
        <p className="jp-mlops-lc-note">
          State what the project is for: the objective metric and its minimum,
          the guardrails per slice, the gate's rule, the serving SLO and the
          drift tolerance. The gate, the monitors and the alerts then judge
          against it. It is written to{' '}
          <code title={project.file}>{basename(project.file)}</code>.
        </p>
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mod-accept jp-mlops-button"
          data-testid="mlops-project-define"
          onClick={onEdit}
        >
          Define the project
        </button>
      </section>
    );
  }
  return (
    <section
      className="jp-mlops-lc-project"
      data-testid="mlops-lifecycle-project"
      data-defined="true"
    >
      <div className="jp-mlops-lc-project-head">
        <h3 className="jp-mlops-lc-problem" data-testid="mlops-project-problem">
          {project.problem}
        </h3>
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-project-edit"
          title={`Edit the definition (written back to ${project.file}, comments kept)`}
          onClick={onEdit}
        >
          <editIcon.react tag="span" className="jp-mlops-button-icon" />
          Edit
        </button>
      </div>
      <dl className="jp-mlops-lc-facts">
        {projectFacts(project).map(fact => (
          <div key={fact.key} className="jp-mlops-lc-fact" data-fact={fact.key}>
            <dt>{fact.label}</dt>
            <dd>{fact.value}</dd>
          </div>
        ))}
      </dl>
      <div className="jp-mlops-lc-file" title={project.file}>
        {project.file}
      </div>
    </section>
  );
}

function basename(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/**
 * What is not on track, worst first: the first thing to read on a Monday.
 */
function Attention(props: { lifecycle: ILifecycle }): JSX.Element | null {
  const lines = attention(props.lifecycle);
  if (!lines.length) {
    return null;
  }
  return (
    <ul
      className="jp-mlops-lc-attention"
      data-testid="mlops-lifecycle-attention"
    >
      {lines.map((line, i) => (
        <li key={i} data-status={line.status}>
          <HealthDot status={line.status} />
          {line.text}
        </li>
      ))}
    </ul>
  );
}
