import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { IFeatureViewDetail } from './types';

/**
 * The rendermime registry the definition is highlighted with (JupyterLab's
 * Markdown renderer highlights fenced code with its CodeMirror languages);
 * null: shown as plain text.
 */
export const RenderMimeContext =
  React.createContext<IRenderMimeRegistry | null>(null);

type JSONish =
  string | number | boolean | null | JSONish[] | { [key: string]: JSONish };

/**
 * Fields shown otherwise (the positional name, the transforms as their own
 * blocks) or not at all when empty.
 */
const SKIPPED = new Set(['name', 'transform', 'python_transform']);

/**
 * A JSON value as a Python literal (`True`, `None`, lists and dicts).
 */
export function pythonLiteral(value: JSONish, indent = ''): string {
  if (value === null) {
    return 'None';
  }
  if (value === true || value === false) {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    const items = value.map(v => pythonLiteral(v, inner));
    const flat = `[${items.join(', ')}]`;
    return flat.length <= 60 && !flat.includes('\n')
      ? flat
      : `[\n${items.map(i => `${inner}${i},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).map(
    ([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v, inner)}`
  );
  const flat = `{${entries.join(', ')}}`;
  return flat.length <= 60 && !flat.includes('\n')
    ? flat
    : `{\n${entries.map(e => `${inner}${e},`).join('\n')}\n${indent}}`;
}

function isEmpty(value: JSONish): boolean {
  return (
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.keys(value).length === 0)
  );
}

/**
 * The registered definition as the call that registers it: readable
 * Python, empty options left out; a pinned source as `name@version`.
 */
export function definitionAsPython(
  name: string,
  definition: { [key: string]: unknown }
): string {
  const fields = { ...(definition as { [key: string]: JSONish }) };
  if (typeof fields.source === 'string' && fields.source_version !== null) {
    if (fields.source_version !== undefined) {
      fields.source = `${fields.source}@${String(fields.source_version)}`;
    }
  }
  delete fields.source_version;
  const lines = [`    ${JSON.stringify(name)},`];
  for (const [key, value] of Object.entries(fields)) {
    if (SKIPPED.has(key) || value === undefined || isEmpty(value)) {
      continue;
    }
    lines.push(`    ${key}=${pythonLiteral(value, '    ')},`);
  }
  if (typeof definition.transform === 'string') {
    lines.push('    transform=TRANSFORM,  # the SQL below');
  }
  if (typeof definition.python_transform === 'string') {
    lines.push('    transform=transform,  # the function below');
  }
  return `ws.features.register_feature_view(\n${lines.join('\n')}\n)`;
}

/**
 * Code highlighted by JupyterLab's Markdown renderer (CodeMirror's
 * languages and the theme's token colours); plain text without it.
 */
export function HighlightedCode(props: {
  code: string;
  language: 'python' | 'sql';
  testid?: string;
}): JSX.Element {
  const { code, language } = props;
  const rendermime = React.useContext(RenderMimeContext);
  const host = React.useRef<HTMLDivElement>(null);
  const [rendered, setRendered] = React.useState(false);
  React.useEffect(() => {
    const node = host.current;
    if (!node || !rendermime) {
      return;
    }
    const renderer = rendermime.createRenderer('text/markdown');
    const fence = code.includes('```') ? '~~~~' : '```';
    const model = rendermime.createModel({
      data: { 'text/markdown': `${fence}${language}\n${code}\n${fence}\n` },
      trusted: false
    });
    // Not attached as a Lumino widget: React owns (and may remove) `node`.
    let done = false;
    void renderer.renderModel(model).then(() => {
      if (!done) {
        node.replaceChildren(renderer.node);
        setRendered(true);
      }
    });
    return () => {
      done = true;
      renderer.node.remove();
      renderer.dispose();
    };
  }, [code, language, rendermime]);
  return (
    <div
      className="jp-mlops-highlighted"
      data-testid={props.testid}
      data-language={language}
      data-rendered={rendered}
      ref={host}
    >
      <pre className="jp-mlops-code">{code}</pre>
    </div>
  );
}

/**
 * The view's definition: the registration call, then its SQL or Python
 * transform, each highlighted.
 */
export function Definition(props: { detail: IFeatureViewDetail }): JSX.Element {
  const { detail } = props;
  const { definition } = detail;
  return (
    <div className="jp-mlops-definition">
      <HighlightedCode
        code={definitionAsPython(detail.name, definition)}
        language="python"
        testid="mlops-fv-definition-call"
      />
      {typeof definition.transform === 'string' && (
        <>
          <p className="jp-mlops-meta">
            <code>TRANSFORM</code>: SQL over the relation <code>source</code>
          </p>
          <HighlightedCode
            code={definition.transform}
            language="sql"
            testid="mlops-fv-definition-sql"
          />
        </>
      )}
      {typeof definition.python_transform === 'string' && (
        <>
          <p className="jp-mlops-meta">The Python transform, as registered:</p>
          <HighlightedCode
            code={definition.python_transform}
            language="python"
            testid="mlops-fv-definition-python"
          />
        </>
      )}
    </div>
  );
}
