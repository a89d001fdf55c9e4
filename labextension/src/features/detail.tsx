import { Clipboard } from '@jupyterlab/apputils';
import {
  addBelowIcon,
  closeIcon,
  copyIcon,
  HTMLSelect,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { DetailShell } from '../listView';
import { formatDateTime, formatTtl } from '../format';
import { IFeatureViewDetail } from './types';
import { CheckBadge, DataChecks } from './checks';
import { Consistency, VerdictBadge } from './consistency';
import { Consumers, groupConsumers } from './consumers';
import { Definition } from './definition';
import { VersionsDiff } from './diff';
import { FeatureCard, Freshness } from './cards';
import { FeaturesModel, IFeaturesState } from './model';
import { StreamCard } from './streams';
import { LegacyWindowsNotice, StatsAsOf } from './windows';

/**
 * One feature view in detail: facts, features with statistics and
 * histograms (window features in words), online/offline consistency,
 * versions and their diff, consumers, definition and code.
 */
export function ViewDetail(props: {
  model: FeaturesModel;
  state: IFeaturesState;
}): JSX.Element {
  const { model, state } = props;
  const { detail, selected } = state;
  return (
    <DetailShell
      className="jp-mlops-fv-detail"
      testid="mlops-fv-detail"
      data={{ view: selected ?? undefined }}
      busy={state.detailLoading}
      headerClassName="jp-mlops-fv-toolbar"
      back={{
        label: 'Features',
        tooltip: 'Back to the list of feature views',
        onClick: () => void model.deselect()
      }}
      ids="mlops-fv"
      onRefresh={() => void model.refresh()}
      state={state}
      shown={!!detail}
      errorTitle="The feature view could not be loaded"
    >
      {detail && <DetailBody detail={detail} model={model} state={state} />}
    </DetailShell>
  );
}

function DetailBody(props: {
  detail: IFeatureViewDetail;
  model: FeaturesModel;
  state: IFeaturesState;
}): JSX.Element {
  const { detail, model, state } = props;
  const latest = Math.max(
    ...detail.versions.map(v => v.version),
    detail.version
  );
  const canCompare = detail.versions.length >= 2;
  const latestCheck = state.consistency.reports[0];
  // The polled status when there is one (live), else the detail's.
  const stream =
    state.streams.items.find(s => s.view === detail.name) ?? detail.stream;
  const compareLatest = () => {
    if (state.diff.phase === 'none' && canCompare) {
      const older = detail.versions
        .map(v => v.version)
        .filter(v => v < detail.version);
      const a = older.length ? Math.max(...older) : detail.version;
      const b = older.length ? detail.version : latest;
      if (a !== b) {
        void model.compare(a, b);
      }
    }
  };
  return (
    <>
      <section className="jp-mlops-fv-head" aria-label="Feature view">
        <div className="jp-mlops-fv-title">
          <h3 data-testid="mlops-fv-name" title={detail.name}>
            {detail.name}
          </h3>
          <HTMLSelect
            aria-label="Version"
            data-testid="mlops-fv-version"
            value={String(detail.version)}
            onChange={event =>
              void model.setVersion(Number(event.currentTarget.value))
            }
            options={[...detail.versions]
              .sort((x, y) => y.version - x.version)
              .map(v => ({
                value: String(v.version),
                label: `v${v.version}${v.version === latest ? ' (latest)' : ''}`
              }))}
          />
        </div>
        <p
          className={
            detail.description
              ? 'jp-mlops-fv-description'
              : 'jp-mlops-fv-description jp-mlops-placeholder'
          }
          data-testid="mlops-fv-description"
        >
          {detail.description || 'No description.'}
        </p>
        <LegacyWindowsNotice detail={detail} />
        <CodeActions detail={detail} model={model} />
        {state.codeNotice && (
          <div
            className="jp-mlops-notice"
            role="status"
            data-kind={state.codeNotice.kind}
            data-testid="mlops-fv-notice"
          >
            <span>{state.codeNotice.message}</span>
            <ToolbarButtonComponent
              icon={closeIcon}
              tooltip="Dismiss"
              onClick={() => model.notify(null)}
            />
          </div>
        )}
        <Facts detail={detail} />
      </section>
      {stream && (
        <details
          className="jp-mlops-fv-section"
          data-testid="mlops-fv-stream"
          open
        >
          <summary>Stream</summary>
          <StreamCard stream={stream} />
        </details>
      )}
      <details className="jp-mlops-fv-section" open>
        <summary>
          Features
          <span className="jp-mlops-badge">{detail.features.length}</span>
        </summary>
        <StatsAsOf features={detail.features} />
        <ul className="jp-mlops-features" aria-label="Features">
          {detail.features.map(feature => (
            <FeatureCard key={feature.name} feature={feature} />
          ))}
        </ul>
      </details>
      {detail.source_checks && (
        <details
          className="jp-mlops-fv-section"
          data-testid="mlops-fv-checks"
          open={detail.source_checks.status === 'failed'}
        >
          <summary>
            Data checks
            <CheckBadge
              summary={detail.source_checks}
              testid="mlops-fv-checks-badge"
            />
          </summary>
          <DataChecks checks={detail.source_checks} />
        </details>
      )}
      <details
        className="jp-mlops-fv-section"
        data-testid="mlops-fv-consistency"
      >
        <summary>
          Consistency
          {latestCheck && (
            <VerdictBadge
              verdict={latestCheck.verdict}
              testid="mlops-fv-consistency-verdict"
            />
          )}
        </summary>
        <Consistency model={model} consistency={state.consistency} />
      </details>
      <details
        className="jp-mlops-fv-section"
        data-testid="mlops-fv-versions"
        onToggle={event => event.currentTarget.open && compareLatest()}
      >
        <summary>
          Versions
          <span className="jp-mlops-badge">{detail.versions.length}</span>
        </summary>
        <VersionList
          detail={detail}
          onSelect={version => void model.setVersion(version)}
        />
        <VersionsDiff
          versions={detail.versions}
          diff={state.diff}
          onCompare={(a, b) => void model.compare(a, b)}
        />
      </details>
      <details className="jp-mlops-fv-section" data-testid="mlops-fv-consumers">
        <summary>
          Consumers
          <span className="jp-mlops-badge">
            {groupConsumers(detail.consumers).length}
          </span>
        </summary>
        <Consumers
          consumers={detail.consumers}
          features={detail.features.map(f => f.name)}
        />
      </details>
      <details
        className="jp-mlops-fv-section"
        data-testid="mlops-fv-definition"
      >
        <summary>Definition</summary>
        <Definition detail={detail} />
      </details>
    </>
  );
}

/**
 * Insert the view's snippet into the active notebook, or copy it; the
 * snippet itself is shown folded.
 */
function CodeActions(props: {
  detail: IFeatureViewDetail;
  model: FeaturesModel;
}): JSX.Element | null {
  const { detail, model } = props;
  const snippet = detail.snippet;
  if (!snippet) {
    return null;
  }
  const copy = () => {
    Clipboard.copyToSystem(snippet);
    model.notify({
      kind: 'success',
      message: 'Code copied to the clipboard.'
    });
  };
  return (
    <div className="jp-mlops-fv-code">
      <div className="jp-mlops-fv-actions">
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-insert-code"
          title="Insert code loading these features into a training frame, below the active cell of the current notebook"
          onClick={() => void model.insertCode()}
        >
          <addBelowIcon.react tag="span" className="jp-mlops-button-icon" />
          Insert code
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-copy-code"
          title="Copy the code to the clipboard"
          onClick={copy}
        >
          <copyIcon.react tag="span" className="jp-mlops-button-icon" />
          Copy
        </button>
      </div>
      <details className="jp-mlops-fv-snippet">
        <summary>Code</summary>
        <pre className="jp-mlops-code" data-testid="mlops-fv-snippet">
          {snippet}
        </pre>
      </details>
    </div>
  );
}

/**
 * Entity, source, timestamp, TTL, owner, tags, rows and freshness.
 */
function Facts(props: { detail: IFeatureViewDetail }): JSX.Element {
  const { detail } = props;
  const definition = detail.definition;
  const source =
    detail.source ??
    (typeof definition.source === 'string'
      ? {
          dataset: definition.source,
          version: Number(definition.source_version)
        }
      : null);
  const timestamp =
    typeof definition.timestamp === 'string' ? definition.timestamp : null;
  const joinKeys = detail.entity?.join_keys ?? [];
  return (
    <dl className="jp-mlops-facts" data-testid="mlops-fv-facts">
      <dt>Entity</dt>
      <dd data-fact="entity">
        {detail.entity?.name ?? String(definition.entity ?? '–')}
        {joinKeys.length > 0 && (
          <span className="jp-mlops-fv-keys" title="Join keys">
            {' '}
            on{' '}
            {joinKeys.map(key => (
              <code key={key}>{key}</code>
            ))}
          </span>
        )}
      </dd>
      {source && (
        <>
          <dt>Source</dt>
          <dd data-fact="source">
            <code>
              {source.dataset}@{source.version}
            </code>
            <CheckBadge
              summary={detail.source_checks}
              testid="mlops-fv-source-checks"
            />
          </dd>
        </>
      )}
      {timestamp && (
        <>
          <dt>Timestamp</dt>
          <dd data-fact="timestamp">
            <code>{timestamp}</code>
          </dd>
        </>
      )}
      <dt>TTL</dt>
      <dd data-fact="ttl">{formatTtl(detail.ttl_seconds)}</dd>
      {detail.owner && (
        <>
          <dt>Owner</dt>
          <dd data-fact="owner">{detail.owner}</dd>
        </>
      )}
      {detail.tags && detail.tags.length > 0 && (
        <>
          <dt>Tags</dt>
          <dd data-fact="tags" className="jp-mlops-tags">
            {detail.tags.map(tag => (
              <span key={tag} className="jp-mlops-tag">
                {tag}
              </span>
            ))}
          </dd>
        </>
      )}
      {detail.row_count !== undefined && (
        <>
          <dt
            title={
              detail.windowed
                ? 'A window view keeps its events; values are computed as of the time asked for'
                : undefined
            }
          >
            {detail.windowed ? 'Events' : 'Rows'}
          </dt>
          <dd data-fact="rows">{detail.row_count.toLocaleString()}</dd>
        </>
      )}
      <dt>Freshness</dt>
      <dd data-fact="freshness">
        <Freshness freshness={detail.freshness} />
      </dd>
    </dl>
  );
}

/**
 * The versions of the view; the one shown is marked, others open on click.
 */
function VersionList(props: {
  detail: IFeatureViewDetail;
  onSelect: (version: number) => void;
}): JSX.Element {
  const { detail, onSelect } = props;
  const versions = [...detail.versions].sort((x, y) => y.version - x.version);
  return (
    <ul className="jp-mlops-fv-versions" aria-label="Versions">
      {versions.map(v => {
        const current = v.version === detail.version;
        return (
          <li key={v.version} data-version={v.version} data-current={current}>
            <button
              type="button"
              className="jp-mlops-fv-version"
              disabled={current}
              title={current ? 'Shown' : `Show v${v.version}`}
              onClick={() => onSelect(v.version)}
            >
              <span className="jp-mlops-fv-version-number">v{v.version}</span>
              {v.source && (
                <code>
                  {v.source.dataset}@{v.source.version}
                </code>
              )}
              {v.source && <CheckBadge summary={v.source.checks} />}
              {v.created_at && (
                <time dateTime={v.created_at}>
                  {formatDateTime(v.created_at)}
                </time>
              )}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
