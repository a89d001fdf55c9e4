import {
  closeIcon,
  HTMLSelect,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { StageGraph } from './graph';
import { asApiError, MlopsApiError } from '../request';
import { IPipeline, IStartRunRequest } from './types';
import {
  collectOverrides,
  IParameterField,
  initialText,
  parameterFields,
  parseInput
} from './parameters';

/**
 * The "Run pipeline" form: pick a pipeline, override parameters, choose
 * which stages run, and start it.
 *
 * The form keeps only what is being typed; `onStart` (the model) talks to
 * the server.
 */
export function LaunchForm(props: {
  pipelines: readonly IPipeline[] | null;
  pipelinesError: MlopsApiError | null;
  onStart: (request: IStartRunRequest) => Promise<unknown>;
  onClose: () => void;
}): JSX.Element {
  const { pipelines, onStart, onClose } = props;
  const [name, setName] = React.useState(pipelines?.[0]?.name ?? '');
  const [texts, setTexts] = React.useState<Record<string, string>>({});
  const [force, setForce] = React.useState(false);
  const [scope, setScope] = React.useState('');
  const [submitting, setSubmitting] = React.useState(false);
  const [error, setError] = React.useState<MlopsApiError | null>(null);

  // Pick the first pipeline once they are loaded.
  React.useEffect(() => {
    if (!pipelines?.some(p => p.name === name)) {
      setName(pipelines?.[0]?.name ?? '');
    }
  }, [pipelines]);

  const pipeline = pipelines?.find(p => p.name === name);
  const groups = React.useMemo(
    () => (pipeline ? parameterFields(pipeline) : []),
    [pipeline]
  );
  const fields = groups.flatMap(g => g.fields);
  const collected = collectOverrides(fields, texts);

  const choose = (next: string) => {
    setName(next);
    setTexts({});
    setScope('');
    setError(null);
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!pipeline || !collected.ok || submitting) {
      return;
    }
    const request: IStartRunRequest = { pipeline: pipeline.name, force };
    if (Object.keys(collected.overrides).length) {
      request.parameters = collected.overrides;
    }
    const [mode, stage] = scope.split(':');
    if (mode === 'only' || mode === 'from') {
      request[mode] = stage;
    }
    setSubmitting(true);
    setError(null);
    try {
      await onStart(request);
      onClose();
    } catch (reason) {
      setError(asApiError(reason));
      setSubmitting(false);
    }
  };

  return (
    <form
      className="jp-mlops-launch"
      data-testid="mlops-launch"
      aria-label="Run pipeline"
      onSubmit={event => void submit(event)}
    >
      <div className="jp-mlops-launch-header">
        <span className="jp-mlops-launch-title">Run pipeline</span>
        <ToolbarButtonComponent
          icon={closeIcon}
          tooltip="Close"
          onClick={onClose}
        />
      </div>
      {props.pipelinesError && (
        <ErrorNotice
          error={props.pipelinesError}
          title="The pipelines could not be read"
          testid="mlops-pipelines-error"
        />
      )}
      {pipelines && pipelines.length === 0 && (
        <p className="jp-mlops-placeholder">
          No pipelines in mlops_lab.yaml. Add one under <code>pipelines:</code>,
          or run a notebook with <em>MLOps: Run notebook as pipeline stage</em>.
        </p>
      )}
      {pipelines && pipelines.length > 0 && (
        <>
          <label className="jp-mlops-field">
            <span className="jp-mlops-field-label">Pipeline</span>
            <HTMLSelect
              value={name}
              aria-label="Pipeline"
              data-testid="mlops-launch-pipeline"
              onChange={event => choose(event.currentTarget.value)}
              options={pipelines.map(p => p.name)}
            />
          </label>
          {pipeline?.description && (
            <p className="jp-mlops-launch-description">
              {pipeline.description}
            </p>
          )}
          {pipeline && (
            <PipelineGraph key={pipeline.name} pipeline={pipeline} />
          )}
          {groups.map(group => (
            <fieldset
              key={group.stage}
              className="jp-mlops-launch-stage"
              data-stage={group.stage}
            >
              <legend>
                {group.stage}
                <span className="jp-mlops-launch-notebook">
                  {pipeline?.stages.find(s => s.name === group.stage)?.notebook}
                </span>
              </legend>
              {group.fields.length === 0 && (
                <span className="jp-mlops-launch-none">
                  {sharedOnly(pipeline, group.stage)
                    ? 'Parameters shared with an earlier stage'
                    : 'No parameters'}
                </span>
              )}
              {group.fields.map(field => (
                <ParameterInput
                  key={field.name}
                  field={field}
                  text={texts[field.name]}
                  onChange={text => setTexts({ ...texts, [field.name]: text })}
                />
              ))}
            </fieldset>
          ))}
          <label className="jp-mlops-field">
            <span className="jp-mlops-field-label">Stages</span>
            <HTMLSelect
              value={scope}
              aria-label="Stages to run"
              data-testid="mlops-launch-scope"
              onChange={event => setScope(event.currentTarget.value)}
              options={[
                { value: '', label: 'All stages' },
                ...(pipeline?.stages ?? []).flatMap(s => [
                  { value: `only:${s.name}`, label: `Only ${s.name}` },
                  { value: `from:${s.name}`, label: `From ${s.name} on` }
                ])
              ]}
            />
          </label>
          <label className="jp-mlops-check">
            <input
              type="checkbox"
              checked={force}
              data-testid="mlops-launch-force"
              onChange={event => setForce(event.currentTarget.checked)}
            />
            Force: execute every stage, even when cached
          </label>
        </>
      )}
      {error && (
        <ErrorNotice
          error={error}
          title="The run was not started"
          testid="mlops-launch-error"
        />
      )}
      <div className="jp-mlops-launch-actions">
        <button
          type="button"
          className="jp-mod-styled jp-mod-reject"
          onClick={onClose}
        >
          Cancel
        </button>
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          data-testid="mlops-launch-submit"
          disabled={!pipeline || !collected.ok || submitting}
        >
          {submitting ? 'Starting…' : 'Run'}
        </button>
      </div>
    </form>
  );
}

/**
 * Whether every parameter of a stage is edited under an earlier stage.
 */
function sharedOnly(pipeline: IPipeline | undefined, stage: string): boolean {
  const spec = pipeline?.stages.find(s => s.name === stage);
  return !!spec && Object.keys(spec.parameters).length > 0;
}

/**
 * One parameter: an input that suits its default value, marked when it
 * differs from the default, with the reason when it cannot be read.
 */
function ParameterInput(props: {
  field: IParameterField;
  text: string | undefined;
  onChange: (text: string) => void;
}): JSX.Element {
  const { field, onChange } = props;
  const text = props.text ?? initialText(field);
  const parsed = parseInput(field.kind, text);
  const changed =
    parsed.ok &&
    JSON.stringify(parsed.value) !== JSON.stringify(field.defaultValue);
  const id = `jp-mlops-param-${field.name}`;
  const common = {
    id,
    'data-testid': `mlops-param-${field.name}`,
    'aria-invalid': !parsed.ok
  };
  let input: JSX.Element;
  if (field.kind === 'bool') {
    input = (
      <input
        {...common}
        type="checkbox"
        checked={text === 'true'}
        onChange={event => onChange(String(event.currentTarget.checked))}
      />
    );
  } else {
    input = (
      <input
        {...common}
        className={`jp-mod-styled jp-mlops-param-input${
          field.kind === 'json' ? ' jp-mlops-param-json' : ''
        }`}
        type={field.kind === 'number' ? 'number' : 'text'}
        step={field.kind === 'number' ? 'any' : undefined}
        spellCheck={false}
        value={text}
        onChange={event => onChange(event.currentTarget.value)}
      />
    );
  }
  const shared = field.stages.slice(1);
  return (
    <div
      className="jp-mlops-param"
      data-kind={field.kind}
      data-changed={changed}
    >
      <label
        htmlFor={id}
        className="jp-mlops-param-name"
        title={`Default: ${JSON.stringify(field.defaultValue)}`}
      >
        {field.name}
      </label>
      {input}
      {!parsed.ok && (
        <span className="jp-mlops-param-problem" role="alert">
          {parsed.message}
        </span>
      )}
      {(changed || shared.length > 0) && (
        <span className="jp-mlops-param-hint">
          {changed && <>default {JSON.stringify(field.defaultValue)}</>}
          {changed && shared.length > 0 && ' · '}
          {shared.length > 0 && <>also sets {shared.join(', ')}</>}
        </span>
      )}
    </div>
  );
}

/**
 * The chosen pipeline's stages as a graph, before any run.
 */
function PipelineGraph(props: { pipeline: IPipeline }): JSX.Element {
  const { pipeline } = props;
  const nodes = React.useMemo(
    () =>
      pipeline.stages.map(stage => ({
        name: stage.name,
        needs: stage.needs,
        notebook: stage.notebook,
        info: stage.notebook.split('/').pop()
      })),
    [pipeline]
  );
  return (
    <StageGraph nodes={nodes} label={`Stages of pipeline ${pipeline.name}`} />
  );
}
