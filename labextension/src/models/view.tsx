import {
  InputGroup,
  refreshIcon,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice, Pager, plural } from '../components';
import { formatAge, formatDateTime, formatNumber } from '../format';
import { ShownReactWidget } from '../shown';
import { ModelDetail } from './detail';
import { IModelsState, ModelsModel } from './model';
import { AliasBadges } from './parts';
import { IModelSummary } from './types';
import { VersionDetail } from './version';

/**
 * The Models view of the MLOps sidebar: a view of a `ModelsModel`.
 *
 * The list is searched and paginated on the server; a model shows its
 * versions and alias history, a version its signature and lineage.
 */
export class ModelsPanel extends ShownReactWidget {
  constructor(model: ModelsModel) {
    super();
    this._model = model;
    this.addClass('jp-mlops-panel');
    this.title.label = 'Models';
  }

  protected onShown(): void {
    void this._model.refresh();
  }

  protected render(): JSX.Element {
    const model = this._model;
    return (
      <UseSignal signal={model.stateChanged} initialArgs={model.state}>
        {(_, state) => (
          <ModelsView
            model={model}
            state={state ?? model.state}
            scroller={this.node}
          />
        )}
      </UseSignal>
    );
  }

  private _model: ModelsModel;
}

/**
 * The list, a model or one of its versions; going back restores where the
 * list was scrolled to.
 */
function ModelsView(props: {
  model: ModelsModel;
  state: IModelsState;
  scroller: HTMLElement;
}): JSX.Element {
  const { model, state, scroller } = props;
  const listScroll = React.useRef(0);
  const where = `${state.selected ?? ''}/${state.version ?? ''}`;
  React.useLayoutEffect(() => {
    scroller.scrollTop = state.selected === null ? listScroll.current : 0;
  }, [where]);
  if (state.selected !== null && state.version !== null) {
    return <VersionDetail model={model} state={state} />;
  }
  if (state.selected !== null) {
    return <ModelDetail model={model} state={state} />;
  }
  const open = (name: string) => {
    listScroll.current = scroller.scrollTop;
    void model.select(name);
  };
  return <ModelList model={model} state={state} onOpen={open} />;
}

function ModelList(props: {
  model: ModelsModel;
  state: IModelsState;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { model, state, onOpen } = props;
  return (
    <div
      className="jp-mlops-body jp-mlops-models-list"
      data-testid="mlops-models"
      aria-busy={state.loading}
    >
      <div className="jp-mlops-header">
        <h2 className="jp-mlops-title">Models</h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip="Refresh"
          dataset={{ testid: 'mlops-models-refresh' }}
          onClick={() => void model.refresh()}
        />
      </div>
      <div className="jp-mlops-models-search" role="search">
        <InputGroup
          type="text"
          placeholder="Search models"
          title="Searches model names and descriptions"
          aria-label="Search models"
          data-testid="mlops-models-search"
          rightIcon="ui-components:search"
          value={state.query}
          onChange={event => model.setQuery(event.target.value)}
        />
      </div>
      {state.error && (
        <ErrorNotice
          error={state.error}
          title="The models could not be loaded"
          testid="mlops-models-error"
        />
      )}
      {state.loading && !state.loaded && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {state.loaded && state.items.length === 0 && (
        <p className="jp-mlops-placeholder" data-testid="mlops-models-empty">
          {state.query ? (
            'No models match.'
          ) : (
            <>
              No models yet. Register one from a notebook with{' '}
              <code>mlops_lab.models.register_model(…)</code>.
            </>
          )}
        </p>
      )}
      {state.items.length > 0 && (
        <ul className="jp-mlops-model-list" aria-label="Models">
          {state.items.map(summary => (
            <ModelRow key={summary.name} summary={summary} onOpen={onOpen} />
          ))}
        </ul>
      )}
      <Pager
        shown={state.items.length}
        total={state.total}
        noun="model"
        loading={state.loading}
        onMore={() => void model.loadMore()}
        countTestid="mlops-models-count"
        moreTestid="mlops-models-more"
      />
    </div>
  );
}

/**
 * One model: name, latest version, how many versions, its aliases and
 * its headline metric.
 */
function ModelRow(props: {
  summary: IModelSummary;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { summary, onOpen } = props;
  const { headline } = summary;
  return (
    <li
      className="jp-mlops-model-row"
      data-testid="mlops-model-row"
      data-model={summary.name}
    >
      <button
        type="button"
        className="jp-mlops-model-open"
        title={summary.description || `Show ${summary.name}`}
        onClick={() => onOpen(summary.name)}
      >
        <span className="jp-mlops-model-row-main">
          <span className="jp-mlops-model-row-name">{summary.name}</span>
          <span
            className="jp-mlops-model-row-latest"
            title="Latest version"
            data-testid="mlops-model-latest"
          >
            v{summary.latest}
          </span>
          <AliasBadges
            aliases={Object.keys(summary.aliases)}
            versions={summary.aliases}
          />
        </span>
        <span className="jp-mlops-model-row-meta">
          <span data-testid="mlops-model-versions">
            {summary.versions} {plural(summary.versions, 'version')}
          </span>
          {summary.updated_at && (
            <>
              <span className="jp-mlops-meta-sep">·</span>
              <time
                dateTime={summary.updated_at}
                title={formatAge(summary.updated_at)}
              >
                {formatDateTime(summary.updated_at)}
              </time>
            </>
          )}
        </span>
        {headline ? (
          <span
            className="jp-mlops-model-headline"
            data-testid="mlops-model-headline"
            data-metric={headline.metric}
            title={`v${headline.version} on ${headline.dataset}`}
          >
            <span className="jp-mlops-metric-name">{headline.metric}</span>
            <span className="jp-mlops-metric-value">
              {formatNumber(headline.value)}
            </span>
          </span>
        ) : (
          <span
            className="jp-mlops-model-headline jp-mlops-placeholder"
            data-testid="mlops-model-headline"
          >
            not evaluated
          </span>
        )}
      </button>
    </li>
  );
}
