import * as React from 'react';

import { DetailShell } from '../listView';
import { OpenInTab } from '../openInTab';
import { formatAge, formatBytes, formatDateTime, formatValue } from '../format';
import { promoteWithDialog } from './detail';
import { IModelsState, ModelsModel } from './model';
import { ActionFeedback, AliasBadges, Flavor, Metrics } from './parts';
import { WideTable, LongValue } from '../widetable';
import { TrainingData } from './dataset';
import { TryPredict } from './trypredict';
import { IModelVersionDetail, ISignature } from './types';

/**
 * Characters of a hash shown; the whole hash is in the tooltip.
 */
const HASH_CHARS = 12;

/**
 * One version: its signature, lineage (data, features, run, notebook),
 * parameters and evaluations, and promoting it.
 */
export function VersionDetail(props: {
  model: ModelsModel;
  state: IModelsState;
}): JSX.Element {
  const { model, state } = props;
  const detail = state.versionDetail;
  return (
    <DetailShell
      className="jp-mlops-version-detail"
      testid="mlops-version-detail"
      data={{
        model: state.selected ?? undefined,
        version: state.version?.toString()
      }}
      busy={state.versionLoading}
      headerClassName="jp-mlops-fv-toolbar"
      back={{
        label: state.selected ?? 'Model',
        tooltip: "Back to the model's versions",
        onClick: () => void model.selectVersion(null)
      }}
      ids="mlops-version"
      onRefresh={() => void model.refresh()}
      actions={
        <>
          {model.links.openVersionTab && detail && (
            <OpenInTab
              testid="mlops-version-open-tab"
              compact
              onClick={() =>
                model.links.openVersionTab?.(detail.name, detail.version)
              }
            />
          )}
        </>
      }
      state={{
        detailLoading: state.versionLoading,
        detailError: state.versionError
      }}
      shown={!!detail}
      errorTitle="The version could not be loaded"
    >
      {detail && (
        <>
          <section className="jp-mlops-model-head" aria-label="Version">
            <div className="jp-mlops-version-title">
              <h3 data-testid="mlops-version-name">
                {detail.name} <span>v{detail.version}</span>
              </h3>
              <button
                type="button"
                className="jp-Button jp-mod-small jp-mlops-button"
                data-testid="mlops-promote"
                disabled={state.pending.has('promote')}
                onClick={() =>
                  void promoteWithDialog(
                    model,
                    {
                      name: detail.name,
                      aliases: state.detail?.aliases ?? {}
                    },
                    detail.version
                  )
                }
              >
                Promote…
              </button>
            </div>
            <AliasBadges aliases={detail.aliases} />
            <p className="jp-mlops-meta">
              <Flavor flavor={detail.flavor} trusted={detail.trusted} />
              <span className="jp-mlops-meta-sep">·</span>
              <time dateTime={detail.created_at} title={detail.created_at}>
                registered {formatDateTime(detail.created_at)} (
                {formatAge(detail.created_at)})
              </time>
              <span className="jp-mlops-meta-sep">·</span>
              <code title={detail.artifact_hash}>
                {detail.artifact_hash.slice(0, HASH_CHARS)}
              </code>
            </p>
            {detail.description && (
              <p className="jp-mlops-model-description">{detail.description}</p>
            )}
          </section>
          <ActionFeedback model={model} state={state} />
          <Lineage model={model} state={state} detail={detail} />
          <Signature signature={detail.signature} />
          <TryPredict
            key={`${detail.name}/${detail.version}`}
            model={model}
            name={detail.name}
            version={detail.version}
          />
          <Parameters parameters={detail.parameters} />
          <Evaluations detail={detail} />
          <Bundles detail={detail} />
        </>
      )}
    </DetailShell>
  );
}

function Signature(props: { signature: ISignature | null }): JSX.Element {
  const { signature } = props;
  const output = signature?.output;
  const kind = typeof output === 'string' ? output : output?.kind;
  const classes = typeof output === 'object' ? output.classes : null;
  return (
    <details className="jp-mlops-fv-section" data-testid="mlops-signature" open>
      <summary>
        Signature
        {signature && (
          <span className="jp-mlops-badge">{signature.inputs.length}</span>
        )}
      </summary>
      {!signature ? (
        <p className="jp-mlops-placeholder">
          No signature: the version was registered without a sample frame.
        </p>
      ) : (
        <>
          <p className="jp-mlops-signature-output">
            Output: <strong data-testid="mlops-signature-output">{kind}</strong>
            {classes && classes.length > 0 && (
              <span className="jp-mlops-meta">
                {' '}
                (classes {classes.map(c => String(c)).join(', ')})
              </span>
            )}
          </p>
          <table
            className="jp-mlops-table jp-mlops-signature"
            aria-label="Inputs"
          >
            <thead>
              <tr>
                <th>Input</th>
                <th>dtype</th>
              </tr>
            </thead>
            <tbody>
              {signature.inputs.map(column => (
                <tr key={column.name} data-testid="mlops-signature-input">
                  <td>{column.name}</td>
                  <td>
                    <code>{column.dtype}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </details>
  );
}

/**
 * Where the version came from, each part a link to where it is shown.
 */
function Lineage(props: {
  model: ModelsModel;
  state: IModelsState;
  detail: IModelVersionDetail;
}): JSX.Element {
  const { model, state, detail } = props;
  const { links } = model;
  const runId = detail.run_id;
  const stage = detail.stage;
  return (
    <details className="jp-mlops-fv-section" data-testid="mlops-lineage" open>
      <summary>Lineage</summary>
      <dl className="jp-mlops-facts jp-mlops-lineage">
        <dt>Training data</dt>
        <dd data-fact="training_dataset">
          {detail.training_dataset ? (
            <TrainingData model={model} reference={detail.training_dataset} />
          ) : (
            '–'
          )}
        </dd>
        <dt>Feature views</dt>
        <dd data-fact="feature_views">
          {detail.feature_views.length === 0
            ? '–'
            : detail.feature_views.map(ref => (
                <button
                  type="button"
                  key={ref}
                  className="jp-mlops-link"
                  data-testid="mlops-lineage-feature-view"
                  title="Show in the Features view"
                  onClick={() => links.showFeatureView(ref)}
                >
                  {ref}
                </button>
              ))}
        </dd>
        <dt>Run</dt>
        <dd data-fact="run">
          {runId ? (
            <>
              <button
                type="button"
                className="jp-mlops-link"
                data-testid="mlops-lineage-run"
                title="Show the run in the Runs view"
                onClick={() =>
                  links.showRun(runId, detail.run?.pipeline ?? null)
                }
              >
                {detail.run?.pipeline ?? 'run'} <code>{runId}</code>
              </button>
              {detail.run && (
                <span className="jp-mlops-meta"> {detail.run.status}</span>
              )}
              {stage && (
                <span className="jp-mlops-meta">
                  {' '}
                  · stage <code data-testid="mlops-lineage-stage">{stage}</code>
                </span>
              )}
            </>
          ) : (
            '–'
          )}
        </dd>
        <dt>Notebook</dt>
        <dd data-fact="notebook">
          {detail.notebook ? (
            <button
              type="button"
              className="jp-mlops-link"
              data-testid="mlops-lineage-notebook"
              title="Open the notebook"
              disabled={state.pending.has(`open:${detail.notebook}`)}
              onClick={() => void model.openNotebook(detail.notebook ?? '')}
            >
              {detail.notebook}
            </button>
          ) : (
            '–'
          )}
          {detail.notebook_hash && (
            <code
              className="jp-mlops-lineage-hash"
              title={`Notebook hash ${detail.notebook_hash}`}
              data-testid="mlops-lineage-notebook-hash"
            >
              {detail.notebook_hash.slice(0, HASH_CHARS)}
            </code>
          )}
          {runId && stage && (
            <button
              type="button"
              className="jp-mlops-link"
              data-testid="mlops-lineage-executed"
              title="Open the notebook as the run executed it, with its outputs"
              disabled={state.pending.has(`executed:${runId}/${stage}`)}
              onClick={() => void model.openExecuted(runId, stage)}
            >
              executed notebook
            </button>
          )}
        </dd>
      </dl>
    </details>
  );
}

function Parameters(props: {
  parameters: Record<string, unknown>;
}): JSX.Element {
  const entries = Object.entries(props.parameters).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  return (
    <details className="jp-mlops-fv-section" data-testid="mlops-parameters">
      <summary>
        Parameters
        <span className="jp-mlops-badge">{entries.length}</span>
      </summary>
      {entries.length === 0 ? (
        <p className="jp-mlops-placeholder">No parameters recorded.</p>
      ) : (
        <WideTable
          columns={2}
          label="Parameters"
          first="45%"
          column="7em"
          testid="mlops-parameters-table"
        >
          <tbody>
            {entries.map(([name, value]) => (
              <tr key={name} data-testid="mlops-parameter" data-name={name}>
                <th scope="row" title={name}>
                  {name}
                </th>
                <td>
                  <LongValue text={formatValue(value)} />
                </td>
              </tr>
            ))}
          </tbody>
        </WideTable>
      )}
    </details>
  );
}

function Evaluations(props: { detail: IModelVersionDetail }): JSX.Element {
  const { evaluations } = props.detail;
  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-version-evaluations"
      open={evaluations.length > 0}
    >
      <summary>
        Evaluations
        <span className="jp-mlops-badge">{evaluations.length}</span>
      </summary>
      {evaluations.length === 0 ? (
        <p className="jp-mlops-placeholder">Not evaluated yet.</p>
      ) : (
        <ul className="jp-mlops-version-evaluations">
          {evaluations.map(evaluation => (
            <li key={evaluation.id} data-testid="mlops-version-evaluation">
              <span className="jp-mlops-meta">
                <code>
                  {evaluation.dataset}@{evaluation.dataset_version}
                </code>{' '}
                · {evaluation.rows} rows ·{' '}
                {formatDateTime(evaluation.created_at)}
              </span>
              <Metrics metrics={evaluation.metrics} limit={8} />
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

/**
 * The bundles packaged from the version: where, when, by whom, the archive's hash.
 */
function Bundles(props: { detail: IModelVersionDetail }): JSX.Element {
  const bundles = props.detail.bundles ?? [];
  const { name, version } = props.detail;
  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-version-bundles"
      open={bundles.length > 0}
    >
      <summary>
        Bundles
        <span className="jp-mlops-badge">{bundles.length}</span>
      </summary>
      {bundles.length === 0 ? (
        <p className="jp-mlops-placeholder">
          Not packaged yet:{' '}
          <code>
            mlops-lab package {name}/{version}
          </code>{' '}
          writes a bundle that serves without the workspace.
        </p>
      ) : (
        <ul className="jp-mlops-version-evaluations">
          {bundles.map(bundle => (
            <li key={bundle.id} data-testid="mlops-version-bundle">
              <code title={bundle.path}>{bundle.path}</code>
              <span className="jp-mlops-meta">
                {' '}
                from <code>{bundle.ref}</code> · {formatBytes(bundle.size)} ·{' '}
                <code title={bundle.artifact_hash}>
                  {bundle.artifact_hash.slice(0, HASH_CHARS)}
                </code>{' '}
                · {formatDateTime(bundle.created_at)}
                {bundle.created_by ? ` by ${bundle.created_by}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
