import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatAge, formatNumber, formatValue } from '../format';
import { asApiError, MlopsApiError } from '../request';
import { ModelsModel } from './model';
import { IPrediction, IPredictRequest } from './types';

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
 * Try a version on one entity, as a model server would answer: features
 * are read from the online store, or given in the request.
 */
export function TryPredict(props: {
  model: ModelsModel;
  name: string;
  version: number;
}): JSX.Element {
  const { model, name, version } = props;
  const [text, setText] = React.useState(INITIAL);
  const [busy, setBusy] = React.useState(false);
  const [answer, setAnswer] = React.useState<IPrediction | null>(null);
  const [error, setError] = React.useState<MlopsApiError | null>(null);
  const mounted = React.useRef(true);
  React.useEffect(
    () => () => {
      mounted.current = false;
    },
    []
  );

  const predict = async () => {
    setError(null);
    setAnswer(null);
    let request: IPredictRequest;
    try {
      request = parseTry(text, `${name}/${version}`);
    } catch (reason) {
      setError(asApiError(reason));
      return;
    }
    setBusy(true);
    try {
      const found = await model.predict(name, request);
      if (mounted.current) {
        setAnswer(found);
      }
    } catch (reason) {
      if (mounted.current) {
        setError(asApiError(reason));
      }
    } finally {
      if (mounted.current) {
        setBusy(false);
      }
    }
  };

  return (
    <details className="jp-mlops-fv-section" data-testid="mlops-try-predict">
      <summary>Try a prediction</summary>
      <p className="jp-mlops-meta jp-mlops-try-hint">
        The entity's join keys; features not in the online store go in{' '}
        <code>features</code>. Predicts with v{version} in this workspace.
      </p>
      <textarea
        className="jp-mod-styled jp-mlops-try-input"
        rows={6}
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
          {busy ? 'Predicting…' : 'Predict'}
        </button>
      </div>
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
