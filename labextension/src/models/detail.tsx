import { closeIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DetailShell } from '../listView';
import { ErrorNotice, Pager } from '../components';
import { OpenInTab } from '../openInTab';
import { asApiError, MlopsApiError } from '../request';
import { formatAge, formatDateTime } from '../format';
import { IModelsState, ModelsModel } from './model';
import { ActionFeedback, AliasBadges, Flavor, Metrics } from './parts';
import { VersionComparison } from './compare';
import { askPromotion } from './promote';
import {
  IAliasChange,
  IModelComparison,
  IModelDetail,
  IModelVersionSummary
} from './types';

/**
 * A model: its aliases, its versions (paged) and the history of its
 * aliases.
 */
export function ModelDetail(props: {
  model: ModelsModel;
  state: IModelsState;
}): JSX.Element {
  const { model, state } = props;
  const { detail } = state;
  return (
    <DetailShell
      className="jp-mlops-model-detail"
      testid="mlops-model-detail"
      data={{ model: state.selected ?? undefined }}
      busy={state.detailLoading}
      headerClassName="jp-mlops-fv-toolbar"
      back={{
        label: 'Models',
        tooltip: 'Back to the list of models',
        onClick: () => void model.deselect()
      }}
      ids="mlops-model"
      onRefresh={() => void model.refresh()}
      state={state}
      shown={!!detail}
      errorTitle="The model could not be loaded"
    >
      {detail && (
        <>
          <section className="jp-mlops-model-head" aria-label="Model">
            <h3 data-testid="mlops-model-name">{detail.name}</h3>
            <AliasBadges
              aliases={Object.keys(detail.aliases)}
              versions={detail.aliases}
            />
            {detail.description && (
              <p className="jp-mlops-model-description">{detail.description}</p>
            )}
          </section>
          <ActionFeedback model={model} state={state} />
          <VersionList model={model} state={state} detail={detail} />
          <AliasHistory history={detail.history} />
        </>
      )}
    </DetailShell>
  );
}

/**
 * Ask for an alias and a reason, then promote; shared by the version rows
 * and the version detail.
 */
export async function promoteWithDialog(
  model: ModelsModel,
  detail: Pick<IModelDetail, 'name' | 'aliases'>,
  version: number
): Promise<void> {
  const request = await askPromotion({
    model: detail.name,
    version,
    aliases: detail.aliases
  });
  if (request) {
    await model.promote(request);
  }
}

function VersionList(props: {
  model: ModelsModel;
  state: IModelsState;
  detail: IModelDetail;
}): JSX.Element {
  const { model, state, detail } = props;
  const promoting = state.pending.has('promote');
  const [chosen, setChosen] = React.useState<number[]>([]);
  const [compared, setCompared] = React.useState<IModelComparison | null>(null);
  const [comparing, setComparing] = React.useState(false);
  const [compareError, setCompareError] = React.useState<MlopsApiError | null>(
    null
  );
  const toggle = (version: number, on: boolean) =>
    setChosen(current =>
      on
        ? [...current.filter(v => v !== version), version]
        : current.filter(v => v !== version)
    );
  const compare = async () => {
    setComparing(true);
    setCompareError(null);
    try {
      const versions = [...chosen].sort((a, b) => a - b);
      const found = await model.compareVersions(detail.name, versions);
      setCompared(found);
    } catch (reason) {
      setCompareError(asApiError(reason));
    } finally {
      setComparing(false);
    }
  };
  return (
    <section className="jp-mlops-model-section" aria-label="Versions">
      <h4 className="jp-mlops-model-section-title">Versions</h4>
      {detail.versions.length >= 2 && (
        <div className="jp-mlops-compare-bar">
          <span className="jp-mlops-meta" data-testid="mlops-compare-hint">
            {chosen.length < 2
              ? 'Tick two or more versions to compare them.'
              : `${chosen.length} versions ticked`}
          </span>
          <button
            type="button"
            className="jp-Button jp-mod-small jp-mlops-button"
            data-testid="mlops-compare"
            disabled={chosen.length < 2 || comparing}
            title="Metrics on the same data, parameters, signature and lineage side by side"
            onClick={() => void compare()}
          >
            {comparing ? 'Comparing…' : 'Compare'}
          </button>
        </div>
      )}
      {compareError && (
        <ErrorNotice
          error={compareError}
          title="The versions could not be compared"
          testid="mlops-compare-error"
          onDismiss={() => setCompareError(null)}
        />
      )}
      {compared && (
        <details
          className="jp-mlops-fv-section"
          data-testid="mlops-compare-section"
          open
        >
          <summary>
            Comparing {compared.versions.map(v => `v${v.version}`).join(', ')}
            {model.links.openComparisonTab && (
              <OpenInTab
                compact
                testid="mlops-compare-open-tab"
                tooltip="Open the comparison in a tab, laid out wide"
                onClick={() =>
                  model.links.openComparisonTab?.(
                    compared.name,
                    compared.versions.map(v => v.version)
                  )
                }
              />
            )}
            <ToolbarButtonComponent
              icon={closeIcon}
              tooltip="Close the comparison"
              dataset={{ testid: 'mlops-compare-close' }}
              onClick={() => setCompared(null)}
            />
          </summary>
          <VersionComparison comparison={compared} />
        </details>
      )}
      <ul className="jp-mlops-version-list" data-testid="mlops-versions">
        {detail.versions.map(version => (
          <VersionRow
            key={version.version}
            version={version}
            promoting={promoting}
            selectable={detail.versions.length >= 2}
            chosen={chosen.includes(version.version)}
            onChoose={on => toggle(version.version, on)}
            onOpen={() => void model.selectVersion(version.version)}
            onPromote={() =>
              void promoteWithDialog(model, detail, version.version)
            }
          />
        ))}
      </ul>
      <Pager
        shown={detail.versions.length}
        total={detail.total}
        noun="version"
        loading={state.detailLoading}
        onMore={() => void model.loadMoreVersions()}
        countTestid="mlops-versions-count"
        moreTestid="mlops-versions-more"
      />
    </section>
  );
}

function VersionRow(props: {
  version: IModelVersionSummary;
  promoting: boolean;
  selectable: boolean;
  chosen: boolean;
  onChoose: (on: boolean) => void;
  onOpen: () => void;
  onPromote: () => void;
}): JSX.Element {
  const { version } = props;
  return (
    <li
      className="jp-mlops-version-row"
      data-testid="mlops-version-row"
      data-version={version.version}
      onClick={event => {
        // Anywhere on the row opens the version, but its checkbox and buttons.
        const target = event.target as HTMLElement;
        if (!target.closest('button, input, label')) {
          props.onOpen();
        }
      }}
    >
      {props.selectable && (
        <input
          type="checkbox"
          className="jp-mlops-version-select"
          data-testid="mlops-version-select"
          aria-label={`Compare v${version.version}`}
          title={`Compare v${version.version}`}
          checked={props.chosen}
          onChange={event => props.onChoose(event.currentTarget.checked)}
        />
      )}
      <button
        type="button"
        className="jp-mlops-version-open"
        title={version.description || `Show version ${version.version}`}
        onClick={props.onOpen}
      >
        <span className="jp-mlops-version-row-main">
          <span className="jp-mlops-version-number">v{version.version}</span>
          <AliasBadges aliases={version.aliases} />
        </span>
        <span className="jp-mlops-version-row-meta">
          <Flavor flavor={version.flavor} trusted={version.trusted} />
          <span className="jp-mlops-meta-sep">·</span>
          <time
            dateTime={version.created_at}
            title={formatAge(version.created_at)}
          >
            {formatDateTime(version.created_at)}
          </time>
        </span>
        {Object.keys(version.metrics).length > 0 ? (
          <span
            className="jp-mlops-version-row-metrics"
            title={
              version.evaluated_on ? `on ${version.evaluated_on}` : undefined
            }
          >
            <Metrics metrics={version.metrics} />
          </span>
        ) : (
          <span className="jp-mlops-version-row-metrics jp-mlops-placeholder">
            not evaluated
          </span>
        )}
      </button>
      <button
        type="button"
        className="jp-Button jp-mod-small jp-mlops-button jp-mlops-promote-button"
        data-testid="mlops-promote"
        disabled={props.promoting}
        title={`Point an alias (e.g. champion) at v${version.version}`}
        onClick={props.onPromote}
      >
        Promote…
      </button>
    </li>
  );
}

/**
 * Every alias change, newest first: which alias, from and to which
 * version, who, when and why.
 */
function AliasHistory(props: { history: IAliasChange[] }): JSX.Element {
  const history = [...props.history].sort((a, b) =>
    b.changed_at.localeCompare(a.changed_at)
  );
  return (
    <section className="jp-mlops-model-section" aria-label="Alias history">
      <h4 className="jp-mlops-model-section-title">Alias history</h4>
      {history.length === 0 ? (
        <p className="jp-mlops-placeholder" data-testid="mlops-history-empty">
          No alias set yet: promote a version to name it champion.
        </p>
      ) : (
        <ol className="jp-mlops-history" data-testid="mlops-history">
          {history.map((change, i) => (
            <li
              key={`${change.changed_at}-${change.alias}-${i}`}
              className="jp-mlops-history-row"
              data-testid="mlops-history-row"
              data-alias={change.alias}
            >
              <span className="jp-mlops-history-move">
                <span className="jp-mlops-alias">{change.alias}</span>
                <span data-testid="mlops-history-from">
                  {change.from_version === null
                    ? 'none'
                    : `v${change.from_version}`}
                </span>
                <span aria-label="to">→</span>
                <span data-testid="mlops-history-to">v{change.to_version}</span>
              </span>
              <span className="jp-mlops-history-meta">
                <time
                  dateTime={change.changed_at}
                  title={formatAge(change.changed_at)}
                >
                  {formatDateTime(change.changed_at)}
                </time>
                <span className="jp-mlops-meta-sep">·</span>
                <span data-testid="mlops-history-by">{change.changed_by}</span>
              </span>
              <q
                className="jp-mlops-history-reason"
                data-testid="mlops-history-reason"
              >
                {change.reason}
              </q>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
