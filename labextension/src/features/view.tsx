import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { plural } from '../components';
import { ListDetail, ListShell, ViewHeader, ViewPanel } from '../listView';
import { IFeatureViewSummary } from './types';
import { RenderMimeContext } from './definition';
import { Freshness } from './cards';
import { ViewDetail } from './detail';
import { FeaturesModel, IFeaturesState } from './model';
import { StreamsSection } from './streams';

/**
 * The Features view of the MLOps sidebar: a view of a `FeaturesModel`.
 *
 * The list is searched and paginated on the server; selecting a view
 * shows it in detail, and Back returns to the list where it was. The
 * streamed views above it reload every few seconds while shown.
 */
export class FeaturesPanel extends ViewPanel<FeaturesModel> {
  constructor(model: FeaturesModel, rendermime?: IRenderMimeRegistry | null) {
    super(model, 'Features');
    this._rendermime = rendermime ?? null;
  }

  protected onShown(): void {
    super.onShown();
    this.model.startStreams();
  }

  protected onHidden(): void {
    this.model.stopStreams();
  }

  protected renderState(state: IFeaturesState): JSX.Element {
    const model = this.model;
    return (
      <RenderMimeContext.Provider value={this._rendermime}>
        <ListDetail
          where={state.selected}
          scroller={this.node}
          detail={() => <ViewDetail model={model} state={state} />}
          list={remember => (
            <ViewList
              model={model}
              state={state}
              onOpen={name => {
                remember();
                void model.select(name);
              }}
            />
          )}
        />
      </RenderMimeContext.Provider>
    );
  }

  private _rendermime: IRenderMimeRegistry | null;
}

/**
 * The search, the filters and one page after another of feature views.
 */
function ViewList(props: {
  model: FeaturesModel;
  state: IFeaturesState;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { model, state, onOpen } = props;
  const { filter } = state;
  const filtered = !!(filter.q || filter.tag || filter.owner);
  return (
    <ListShell
      className="jp-mlops-features-list"
      testid="mlops-features"
      header={
        <ViewHeader
          title="Feature views"
          refreshTestid="mlops-features-refresh"
          onRefresh={() => void model.refresh()}
        />
      }
      state={state}
      top={
        <>
          <StreamsSection streams={state.streams} onOpen={onOpen} />
          <Filters model={model} state={state} />
        </>
      }
      errorTitle="The feature views could not be loaded"
      empty={
        filtered ? (
          'No feature views match.'
        ) : (
          <>
            No feature views yet. Register one from a notebook with{' '}
            <code>ws.features.register_feature_view(…)</code>.
          </>
        )
      }
      pager={{
        total: state.total,
        noun: 'view',
        onMore: () => void model.loadMore(),
        countTestid: 'mlops-features-count',
        moreTestid: 'mlops-features-more'
      }}
    >
      <ul className="jp-mlops-fv-list" aria-label="Feature views">
        {state.items.map(view => (
          <ViewRow
            key={view.name}
            view={view}
            onOpen={onOpen}
            onTag={tag => model.setFilter({ tag })}
            onOwner={owner => model.setFilter({ owner })}
          />
        ))}
      </ul>
    </ListShell>
  );
}

/**
 * Search (as you type, on the server) and exact tag and owner filters,
 * suggesting the tags and owners of the views loaded so far.
 */
function Filters(props: {
  model: FeaturesModel;
  state: IFeaturesState;
}): JSX.Element {
  const { model, state } = props;
  const tags = new Set(state.items.flatMap(v => v.tags ?? []));
  const owners = new Set(state.items.map(v => v.owner ?? '').filter(Boolean));
  return (
    <div
      className="jp-mlops-fv-filters"
      role="search"
      aria-label="Search feature views"
    >
      <InputGroup
        type="text"
        placeholder="Search views and features"
        title="Searches names, features, descriptions, tags and owners"
        aria-label="Search"
        data-testid="mlops-features-search"
        rightIcon="ui-components:search"
        value={state.filter.q}
        onChange={event => model.setFilter({ q: event.target.value }, true)}
      />
      <div className="jp-mlops-filters">
        <InputGroup
          type="search"
          placeholder="Tag"
          aria-label="Tag"
          list="jp-mlops-fv-tags"
          data-testid="mlops-features-tag"
          value={state.filter.tag}
          onChange={event => model.setFilter({ tag: event.target.value }, true)}
        />
        <InputGroup
          type="search"
          placeholder="Owner"
          aria-label="Owner"
          list="jp-mlops-fv-owners"
          data-testid="mlops-features-owner"
          value={state.filter.owner}
          onChange={event =>
            model.setFilter({ owner: event.target.value }, true)
          }
        />
      </div>
      <datalist id="jp-mlops-fv-tags">
        {[...tags].sort().map(tag => (
          <option key={tag} value={tag} />
        ))}
      </datalist>
      <datalist id="jp-mlops-fv-owners">
        {[...owners].sort().map(owner => (
          <option key={owner} value={owner} />
        ))}
      </datalist>
    </div>
  );
}

/**
 * One view: name and latest version, entity, owner, tags and freshness.
 * A click anywhere on the row opens it, except on its tag and owner chips,
 * which filter the list.
 */
function ViewRow(props: {
  view: IFeatureViewSummary;
  onOpen: (name: string) => void;
  onTag: (tag: string) => void;
  onOwner: (owner: string) => void;
}): JSX.Element {
  const { view, onOpen } = props;
  return (
    <li
      className="jp-mlops-fv-row"
      data-testid="mlops-fv-row"
      data-view={view.name}
      onClick={event => {
        // Anywhere on the row opens it, but the owner and tag chips filter.
        const target = event.target as HTMLElement;
        if (!target.closest('button')) {
          onOpen(view.name);
        }
      }}
    >
      <button
        type="button"
        className="jp-mlops-fv-open"
        title={view.description || `Show ${view.name}`}
        onClick={() => onOpen(view.name)}
      >
        <span className="jp-mlops-fv-row-main">
          <span className="jp-mlops-fv-row-name">{view.name}</span>
          <span className="jp-mlops-fv-row-version" title="Latest version">
            v{view.version}
          </span>
        </span>
        <span className="jp-mlops-fv-row-meta">
          <span title="Entity" data-testid="mlops-fv-row-entity">
            {view.entity}
          </span>
          <span className="jp-mlops-meta-sep">·</span>
          <span>
            {view.feature_count} {plural(view.feature_count, 'feature')}
          </span>
        </span>
        <span className="jp-mlops-fv-row-side">
          <Freshness freshness={view.freshness} />
        </span>
      </button>
      {(view.owner || (view.tags?.length ?? 0) > 0) && (
        <div className="jp-mlops-fv-row-labels">
          {view.owner && (
            <button
              type="button"
              className="jp-mlops-owner"
              title={`Only views owned by ${view.owner}`}
              onClick={event => {
                event.stopPropagation();
                props.onOwner(view.owner ?? '');
              }}
            >
              @{view.owner}
            </button>
          )}
          {view.tags?.map(tag => (
            <button
              type="button"
              key={tag}
              className="jp-mlops-tag"
              title={`Only views tagged ${tag}`}
              onClick={event => {
                event.stopPropagation();
                props.onTag(tag);
              }}
            >
              {tag}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
