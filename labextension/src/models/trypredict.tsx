import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatAge, formatNumber, formatValue } from '../format';
import { asApiError, MlopsApiError } from '../request';
import { ModelsModel } from './model';
import { IPredictExample, IPrediction, IPredictRequest } from './types';

/**
 * What the textarea starts with: no entity keys are guessed.
 */
const INITIAL = '{\n  "entity": {},\n  "features": {}\n}';

/**
 * Shown while the textarea is empty, as an example.
 */
const PLACEHOLDER = '{"entity": {"customer_id": "c00001"}, "features": {}}';

/**
 * Read the textarea: an object with an `entity` object and optionally a
 * `features` object (left out when empty, so online features are used).
 *
 * @throws {Error} saying what is wrong with the JSON
 */
export function parseTry(text: string, ref: string): IPredictRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (reason) {
    throw new Error(`The request is not valid JSON: ${String(reason)}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(body)) {
    throw new Error('The request must be a JSON object with an "entity".');
  }
  const { entity = {}, features } = body;
  if (!isObject(entity)) {
    throw new Error('"entity" must be an object of join keys.');
  }
  if (features !== undefined && features !== null && !isObject(features)) {
    throw new Error('"features" must be an object of feature name -> value.');
  }
  const request: IPredictRequest = { ref, entity };
  if (features && Object.keys(features).length > 0) {
    request.features = features;
  }
  return request;
}

/**
 * Versions this page has predicted with: the Jupyter server keeps them
 * loaded, so only the first prediction of each pays for loading it.
 */
const warm = new Set<string>();

/**
 * The request a training row makes, as the textarea shows it.
 */
export function exampleText(example: IPredictExample): string {
  return JSON.stringify(
    { entity: example.entity, features: example.features },
    null,
    2
  );
}

/**
 * Try a version on one entity, as a model server would answer: features
 * are read from the online store, or given in the request. The request
 * starts as a real row of the version's training data.
 */
export function TryPredict(props: {
  model: ModelsModel;
  name: string;
  version: number;
}): JSX.Element {
  const { model, name, version } = props;
  const ref = `${name}/${version}`;
  const [text, setText] = React.useState(INITIAL);
  const [example, setExample] = React.useState<IPredictExample | null>(null);
  const [exampleError, setExampleError] = React.useState<string | null>(null);
  const [started, setStarted] = React.useState<number | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [elapsed, setElapsed] = React.useState(0);
  const [answer, setAnswer] = React.useState<IPrediction | null>(null);
  const [error, setError] = React.useState<MlopsApiError | null>(null);
  const mounted = React.useRef(true);
  const asked = React.useRef(false);
  React.useEffect(
    () => () => {
      mounted.current = false;
    },
    []
  );
  React.useEffect(() => {
    if (started === null) {
      return;
    }
    const timer = window.setInterval(
      () => setElapsed((Date.now() - started) / 1000),
      250
    );
    return () => window.clearInterval(timer);
  }, [started]);

  const loadExample = async () => {
    if (asked.current) {
      return;
    }
    asked.current = true;
    try {
      const found = await model.example(name, version);
      if (mounted.current) {
        setExample(found);
        setText(current =>
          current === INITIAL ? exampleText(found) : current
        );
      }
    } catch (reason) {
      if (mounted.current) {
        setExampleError(asApiError(reason).message);
      }
    }
  };

  const predict = async () => {
    setError(null);
    setAnswer(null);
    let request: IPredictRequest;
    try {
      request = parseTry(text, ref);
    } catch (reason) {
      setError(asApiError(reason));
      return;
    }
    setLoading(!warm.has(ref));
    setElapsed(0);
    setStarted(Date.now());
    try {
      const found = await model.predict(name, request);
      warm.add(ref);
      if (mounted.current) {
        setAnswer(found);
      }
    } catch (reason) {
      if (mounted.current) {
        setError(asApiError(reason));
      }
    } finally {
      if (mounted.current) {
        setStarted(null);
      }
    }
  };
  const busy = started !== null;

  return (
    <details
      className="jp-mlops-fv-section"
      data-testid="mlops-try-predict"
      onToggle={event => event.currentTarget.open && void loadExample()}
    >
      <summary>Try a prediction</summary>
      <p className="jp-mlops-meta jp-mlops-try-hint">
        The entity's join keys; features not in the online store go in{' '}
        <code>features</code>. Predicts with v{version} in this workspace.
      </p>
      {example && (
        <p
          className="jp-mlops-meta jp-mlops-try-source"
          data-testid="mlops-try-source"
        >
          Prefilled with row {example.row + 1} of the training data{' '}
          <code>{example.dataset}</code>, every input as in that row
          {example.online.length > 0 &&
            ` (leave a feature out to read it from ${example.online.join(', ')} in the online store)`}
          .{' '}
          <button
            type="button"
            className="jp-mlops-link"
            data-testid="mlops-try-reset"
            title="Put the training row back in the request"
            onClick={() => setText(exampleText(example))}
          >
            Reset
          </button>
        </p>
      )}
      {exampleError && (
        <p
          className="jp-mlops-meta jp-mlops-try-source"
          data-testid="mlops-try-no-example"
        >
          No training row to start from: {exampleError}
        </p>
      )}
      <textarea
        className="jp-mod-styled jp-mlops-try-input"
        rows={8}
        spellCheck={false}
        value={text}
        placeholder={PLACEHOLDER}
        aria-label="Prediction request (JSON)"
        data-testid="mlops-try-input"
        onChange={event => setText(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            void predict();
          }
        }}
      />
      <div className="jp-mlops-try-actions">
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-try-predict-button"
          title="Predict (Ctrl+Enter)"
          disabled={busy}
          onClick={() => void predict()}
        >
          Predict
        </button>
      </div>
      {busy && (
        <div
          className="jp-mlops-try-progress"
          role="status"
          data-testid="mlops-try-progress"
          data-phase={loading ? 'loading' : 'predicting'}
        >
          <progress aria-label="Predicting" />
          <span>
            {loading
              ? `Loading v${version} into the Jupyter server: the first prediction loads the model (about 5–10 s); the next ones take milliseconds.`
              : 'Predicting…'}{' '}
            <span className="jp-mlops-try-elapsed">{elapsed.toFixed(1)} s</span>
          </span>
        </div>
      )}
      {error && (
        <ErrorNotice
          error={error}
          title="No prediction"
          testid="mlops-try-error"
          onDismiss={() => setError(null)}
        />
      )}
      {answer && <Answer answer={answer} />}
    </details>
  );
}

function Answer(props: { answer: IPrediction }): JSX.Element {
  const { answer } = props;
  const probabilities = Object.entries(answer.probabilities ?? {});
  const stale = answer.stale_features ?? {};
  const online = Object.entries(answer.online_features ?? {});
  return (
    <dl
      className="jp-mlops-facts jp-mlops-try-answer"
      data-testid="mlops-try-answer"
      data-request-id={answer.request_id}
    >
      <dt>Version</dt>
      <dd data-fact="version">
        {answer.model} v{answer.version}
      </dd>
      {answer.label !== undefined && (
        <>
          <dt>Label</dt>
          <dd data-fact="label">
            <code>{formatValue(answer.label)}</code>
          </dd>
        </>
      )}
      {answer.score !== undefined && answer.score !== null && (
        <>
          <dt>Score</dt>
          <dd
            data-fact="score"
            data-value={answer.score}
            className="jp-mlops-num"
          >
            {formatNumber(answer.score)}
          </dd>
        </>
      )}
      {answer.value !== undefined && (
        <>
          <dt>Value</dt>
          <dd data-fact="value">
            <code>{formatValue(answer.value)}</code>
          </dd>
        </>
      )}
      {probabilities.length > 0 && (
        <>
          <dt>Probabilities</dt>
          <dd data-fact="probabilities">
            {probabilities.map(([label, p]) => (
              <span key={label} className="jp-mlops-try-prob">
                <code>{label}</code> {formatNumber(p)}
              </span>
            ))}
          </dd>
        </>
      )}
      <dt>Online features</dt>
      <dd data-fact="stale_features">
        {online.length === 0
          ? 'none read'
          : online.map(([view, at]) => (
              <span
                key={view}
                className="jp-mlops-try-prob"
                title={at ?? undefined}
                data-stale={view in stale ? 'true' : 'false'}
              >
                <code>{view}</code>{' '}
                {at === null ? 'unknown entity' : `as of ${formatAge(at)}`}
                {view in stale ? ' (stale: older than its TTL)' : ''}
              </span>
            ))}
      </dd>
    </dl>
  );
}
