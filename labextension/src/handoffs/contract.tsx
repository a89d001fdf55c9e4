import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatValue } from '../format';
import { MlopsApiError } from '../request';
import { IContract } from './types';

/**
 * What the notebook promises as a stage: parameters with their types and
 * defaults, pinned inputs, outputs and environment.
 */
export function Contract(props: { contract: IContract }): JSX.Element {
  const { contract } = props;
  const parameters = Object.entries(contract.parameters ?? {});
  const inputs = [
    ...Object.entries(contract.inputs?.datasets ?? {}).map(([name, pin]) => ({
      kind: 'dataset',
      ref: `${name}@${pin.version}`
    })),
    ...Object.entries(contract.inputs?.feature_views ?? {}).map(
      ([name, pin]) => ({ kind: 'feature view', ref: `${name}@${pin.version}` })
    )
  ];
  const outputs = (['datasets', 'models', 'metrics'] as const)
    .map(kind => ({ kind, names: contract.outputs?.[kind] ?? [] }))
    .filter(o => o.names.length);
  const packages = Object.entries(contract.environment?.packages ?? {}).sort(
    ([a], [b]) => a.localeCompare(b)
  );
  return (
    <section
      className="jp-mlops-handoff-section"
      aria-label="Contract"
      data-testid="mlops-handoff-contract"
    >
      <h4 className="jp-mlops-handoff-section-title">Contract</h4>
      <dl className="jp-mlops-handoff-facts">
        <dt>Parameters</dt>
        <dd data-fact="parameters">
          {parameters.length ? (
            <table className="jp-mlops-handoff-table">
              <tbody>
                {parameters.map(([name, p]) => (
                  <tr
                    key={name}
                    data-parameter={name}
                    data-testid="mlops-handoff-parameter"
                  >
                    <td>
                      <code>{name}</code>
                    </td>
                    <td className="jp-mlops-handoff-type">{p.type}</td>
                    <td>
                      <code>{formatDefault(p.type, p.default)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <span className="jp-mlops-placeholder">none</span>
          )}
        </dd>
        <dt>Inputs</dt>
        <dd data-fact="inputs">
          {inputs.length ? (
            inputs.map(i => (
              <code
                key={i.ref}
                className="jp-mlops-handoff-chip"
                title={`Pinned ${i.kind}`}
                data-testid="mlops-handoff-input"
              >
                {i.ref}
              </code>
            ))
          ) : (
            <span className="jp-mlops-placeholder">none</span>
          )}
        </dd>
        <dt>Outputs</dt>
        <dd data-fact="outputs">
          {outputs.length ? (
            outputs.map(o => (
              <span
                key={o.kind}
                className="jp-mlops-handoff-outputs"
                data-kind={o.kind}
                data-testid="mlops-handoff-output"
              >
                <span className="jp-mlops-handoff-kind">{o.kind}</span>
                {o.names.map(name => (
                  <code key={name} className="jp-mlops-handoff-chip">
                    {name}
                  </code>
                ))}
              </span>
            ))
          ) : (
            <span className="jp-mlops-placeholder">none declared</span>
          )}
        </dd>
        <dt>Environment</dt>
        <dd data-fact="environment" data-testid="mlops-handoff-environment">
          {contract.environment?.python ? (
            <>
              <code className="jp-mlops-handoff-chip">
                Python {contract.environment.python}
              </code>
              {packages.map(([dist, version]) => (
                <code key={dist} className="jp-mlops-handoff-chip">
                  {dist} {version}
                </code>
              ))}
            </>
          ) : (
            <span className="jp-mlops-placeholder">
              unknown (the clean run did not finish)
            </span>
          )}
        </dd>
      </dl>
    </section>
  );
}

/**
 * The Markdown report, rendered by JupyterLab's Markdown renderer when
 * there is one, else shown as text.
 */
export function Report(props: {
  report: string | null;
  error: MlopsApiError | null;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const { report, error, rendermime } = props;
  const host = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    const node = host.current;
    if (!node || report === null || !rendermime) {
      return;
    }
    const renderer = rendermime.createRenderer('text/markdown');
    const model = rendermime.createModel({
      data: { 'text/markdown': report },
      trusted: false
    });
    // Not attached as a Lumino widget: React owns (and may remove) `node`.
    let done = false;
    void renderer.renderModel(model).then(() => {
      if (!done) {
        node.replaceChildren(renderer.node);
      }
    });
    return () => {
      done = true;
      renderer.node.remove();
      renderer.dispose();
    };
  }, [report, rendermime]);
  return (
    <details
      className="jp-mlops-handoff-section jp-mlops-handoff-report"
      data-testid="mlops-handoff-report"
    >
      <summary className="jp-mlops-handoff-section-title">Report</summary>
      {error && (
        <ErrorNotice error={error} title="The report could not be loaded" />
      )}
      {report === null && !error && (
        <p className="jp-mlops-placeholder">Loading…</p>
      )}
      {report !== null && !rendermime && (
        <pre className="jp-mlops-handoff-report-text">{report}</pre>
      )}
      {report !== null && rendermime && (
        <div className="jp-mlops-handoff-report-body" ref={host} />
      )}
    </details>
  );
}

/**
 * A default as Python would write it: floats keep their decimal point.
 */
function formatDefault(type: string, value: unknown): string {
  if (
    type === 'float' &&
    typeof value === 'number' &&
    Number.isInteger(value)
  ) {
    return value.toFixed(1);
  }
  return formatValue(value);
}
