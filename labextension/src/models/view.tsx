import { InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { plural } from '../components';
import { ListDetail, ListShell, ViewHeader, ViewPanel } from '../listView';
import { formatAge, formatDateTime, formatNumber } from '../format';
import { ModelDetail } from './detail';
import { IModelsState, ModelsModel } from './model';
import { AliasBadges } from './parts';
import { IModelSummary } from './types';
import { VersionDetail } from './version';

/**
 * The Models view of the MLOps sidebar: a view of a `ModelsModel`.
 *
 * The list is searched and paginated on the server; a model shows its
 * versions and alias history, a version its signature and lineage; going
 * back restores where the list was scrolled to.
 */
export class ModelsPanel extends ViewPanel<ModelsModel> {
  constructor(model: ModelsModel) {
    super(model, 'Models');
  }

  protected renderState(state: IModelsState): JSX.Element {
    const model = this.model;
    const { selected, version } = state;
    return (
      <ListDetail
        where={selected === null ? null : `${selected}/${version ?? ''}`}
        scroller={this.node}
        detail={() =>
          version !== null ? (
            <VersionDetail model={model} state={state} />
          ) : (
            <ModelDetail model={model} state={state} />
          )
        }
        list={remember => (
          <ModelList
            model={model}
            state={state}
            onOpen={name => {
              remember();
              void model.select(name);
            }}
          />
        )}
      />
    );
  }
}

function ModelList(props: {
  model: ModelsModel;
  state: IModelsState;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { model, state, onOpen } = props;
  return (
    <ListShell
      className="jp-mlops-models-list"
      testid="mlops-models"
      header={
        <ViewHeader
          title="Models"
          refreshTestid="mlops-models-refresh"
          onRefresh={() => void model.refresh()}
        />
      }
      state={state}
      top={
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
      }
      errorTitle="The models could not be loaded"
      empty={
        state.query ? (
          'No models match.'
        ) : (
          <>
            No models yet. Register one from a notebook with{' '}
            <code>mlops_lab.models.register_model(…)</code>.
          </>
        )
      }
      pager={{
        total: state.total,
        noun: 'model',
        onMore: () => void model.loadMore(),
        countTestid: 'mlops-models-count',
        moreTestid: 'mlops-models-more'
      }}
    >
      <ul className="jp-mlops-model-list" aria-label="Models">
        {state.items.map(summary => (
          <ModelRow key={summary.name} summary={summary} onOpen={onOpen} />
        ))}
      </ul>
    </ListShell>
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
