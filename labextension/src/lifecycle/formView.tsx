import * as React from 'react';

import { ErrorNotice } from '../components';
import { asApiError, MlopsApiError } from '../request';
import { ILifecycleApi, savedProblems } from './api';
import {
  formFields,
  fromForm,
  GateKind,
  IProjectForm,
  placeProblems,
  toForm
} from './form';
import {
  Field,
  GuardrailsFieldset,
  OwnersFieldset,
  Problems,
  RuleRow,
  Text
} from './formFields';
import { IProject } from './types';

type Phase = 'editing' | 'checking' | 'saving';

/**
 * The project definition as a form: "Check" asks the server what is wrong
 * (each problem shown next to its field), "Save" writes it back to
 * `mlops_lab.yaml` with the file's comments kept.
 */
export function ProjectForm(props: {
  api: ILifecycleApi;
  project: IProject;
  onClose: (saved: boolean) => void;
}): JSX.Element {
  const [form, setForm] = React.useState<IProjectForm>(() =>
    toForm(props.project)
  );
  const [problems, setProblems] = React.useState<string[]>([]);
  const [checked, setChecked] = React.useState(false);
  const [phase, setPhase] = React.useState<Phase>('editing');
  const [error, setError] = React.useState<MlopsApiError | null>(null);
  const { byField, other } = placeProblems(problems, formFields(form));
  const change = (next: IProjectForm) => {
    setForm(next);
    setChecked(false);
  };

  const check = async () => {
    setPhase('checking');
    setError(null);
    try {
      const answer = await props.api.validate(fromForm(form));
      setProblems(answer.valid ? [] : (answer.problems ?? []));
      setChecked(answer.valid);
    } catch (reason) {
      setError(asApiError(reason));
    }
    setPhase('editing');
  };

  const save = async () => {
    setPhase('saving');
    setError(null);
    try {
      await props.api.save(fromForm(form));
      props.onClose(true);
      return;
    } catch (reason) {
      const failed = asApiError(reason);
      if (failed.status === 422) {
        setProblems(savedProblems(failed));
      } else {
        setError(failed);
      }
    }
    setPhase('editing');
  };

  const field = (path: string) => byField[path] ?? [];
  const busy = phase !== 'editing';
  return (
    <form
      className="jp-mlops-lc-form"
      data-testid="mlops-project-form"
      onSubmit={event => {
        event.preventDefault();
        void save();
      }}
    >
      <h3 className="jp-mlops-lc-problem">
        {props.project.defined
          ? 'Edit the project definition'
          : 'Define the project'}
      </h3>
      <p className="jp-mlops-lc-note">
        Saved to <code>{props.project.file}</code>; the rest of the file and its
        comments stay as they are.
      </p>
      <Problems messages={[...field('project'), ...other]} path="project" />
      <div className="jp-mlops-lc-form-grid">
        <Field
          label="Problem"
          path="project.problem"
          problems={field('project.problem')}
          wide
        >
          <input
            className="jp-mod-styled"
            name="project.problem"
            value={form.problem}
            placeholder="Predict which customers will churn within 30 days"
            onChange={e => change({ ...form, problem: e.currentTarget.value })}
          />
        </Field>
        <Field
          label="Task"
          path="project.task"
          problems={field('project.task')}
        >
          <select
            className="jp-mod-styled"
            name="project.task"
            value={form.task}
            onChange={e => change({ ...form, task: e.currentTarget.value })}
          >
            <option value="classification">classification</option>
            <option value="regression">regression</option>
          </select>
        </Field>
        <Field
          label="Entity"
          path="project.entity"
          problems={field('project.entity')}
        >
          <Text
            form={form}
            change={change}
            name="entity"
            placeholder="customer"
          />
        </Field>
        <Field
          label="Label"
          path="project.label"
          problems={field('project.label')}
        >
          <Text
            form={form}
            change={change}
            name="label"
            placeholder="churned"
          />
        </Field>
      </div>

      <fieldset className="jp-mlops-lc-fieldset">
        <legend>Objective</legend>
        <Problems
          messages={field('project.objective')}
          path="project.objective"
        />
        <RuleRow
          where="project.objective"
          rule={form.objective}
          field={field}
          onChange={objective => change({ ...form, objective })}
        />
      </fieldset>

      <GuardrailsFieldset form={form} change={change} field={field} />

      <div className="jp-mlops-lc-form-row">
        <fieldset className="jp-mlops-lc-fieldset">
          <legend>Gate</legend>
          <Problems messages={field('project.gate')} path="project.gate" />
          <Field
            label="A challenger must be, against the champion"
            path={`project.gate.${form.gate.kind}`}
            problems={field(`project.gate.${form.gate.kind}`)}
          >
            <span className="jp-mlops-lc-inline">
              <select
                className="jp-mod-styled"
                name="project.gate.kind"
                value={form.gate.kind}
                onChange={e =>
                  change({
                    ...form,
                    gate: {
                      ...form.gate,
                      kind: e.currentTarget.value as GateKind
                    }
                  })
                }
              >
                <option value="min_improvement">better by at least</option>
                <option value="non_inferiority">not worse by more than</option>
              </select>
              <input
                className="jp-mod-styled jp-mlops-lc-number"
                name={`project.gate.${form.gate.kind}`}
                value={form.gate.value}
                inputMode="decimal"
                onChange={e =>
                  change({
                    ...form,
                    gate: { ...form.gate, value: e.currentTarget.value }
                  })
                }
              />
            </span>
          </Field>
        </fieldset>
        <fieldset className="jp-mlops-lc-fieldset">
          <legend>Serving SLO</legend>
          <Problems
            messages={field('project.serving')}
            path="project.serving"
          />
          <div className="jp-mlops-lc-inline">
            {(
              [
                ['p99_ms', 'p99 latency (ms)', '50'],
                ['error_rate', 'Error rate', '0.01'],
                ['window', 'Window', '60s']
              ] as const
            ).map(([key, label, placeholder]) => (
              <Field
                key={key}
                label={label}
                path={`project.serving.${key}`}
                problems={field(`project.serving.${key}`)}
              >
                <input
                  className="jp-mod-styled jp-mlops-lc-number"
                  name={`project.serving.${key}`}
                  value={form.serving[key]}
                  placeholder={placeholder}
                  onChange={e =>
                    change({
                      ...form,
                      serving: { ...form.serving, [key]: e.currentTarget.value }
                    })
                  }
                />
              </Field>
            ))}
          </div>
        </fieldset>
        <fieldset className="jp-mlops-lc-fieldset">
          <legend>Drift</legend>
          <Field
            label="Max drifted share"
            path="project.drift.max_drifted_share"
            problems={[
              ...field('project.drift'),
              ...field('project.drift.max_drifted_share')
            ]}
          >
            <input
              className="jp-mod-styled jp-mlops-lc-number"
              name="project.drift.max_drifted_share"
              value={form.drift}
              placeholder="0.3"
              onChange={e => change({ ...form, drift: e.currentTarget.value })}
            />
          </Field>
        </fieldset>
      </div>

      <OwnersFieldset form={form} change={change} field={field} />

      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      <div className="jp-mlops-lc-form-actions">
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-project-check"
          disabled={busy}
          onClick={() => void check()}
        >
          {phase === 'checking' ? 'Checking…' : 'Check'}
        </button>
        <button
          type="submit"
          className="jp-Button jp-mod-small jp-mod-accept jp-mlops-button"
          data-testid="mlops-project-save"
          disabled={busy}
        >
          {phase === 'saving' ? 'Saving…' : 'Save'}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mlops-button"
          data-testid="mlops-project-cancel"
          disabled={phase === 'saving'}
          onClick={() => props.onClose(false)}
        >
          Cancel
        </button>
        {checked && problems.length === 0 && (
          <span className="jp-mlops-lc-valid" data-testid="mlops-project-valid">
            No problems found.
          </span>
        )}
        {problems.length > 0 && (
          <span
            className="jp-mlops-lc-invalid"
            data-testid="mlops-project-problem-count"
          >
            {problems.length === 1
              ? '1 problem'
              : `${problems.length} problems`}
            : see the fields marked.
          </span>
        )}
      </div>
    </form>
  );
}
