import * as React from 'react';

import { emptyRule, IProjectForm, IRuleFields } from './form';

/**
 * A labelled field and the problems the server found with it.
 */
export function Field(props: {
  label: string;
  path: string;
  problems: string[];
  wide?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <label
      className={`jp-mlops-lc-field${props.wide ? ' jp-mlops-lc-wide' : ''}`}
      data-field={props.path}
      data-invalid={props.problems.length > 0}
    >
      <span className="jp-mlops-lc-field-label">{props.label}</span>
      {props.children}
      <Problems messages={props.problems} path={props.path} />
    </label>
  );
}

export function Problems(props: {
  messages: string[];
  path: string;
}): JSX.Element | null {
  if (!props.messages.length) {
    return null;
  }
  return (
    <ul className="jp-mlops-lc-problems">
      {props.messages.map((message, i) => (
        <li key={i} data-testid="mlops-project-problem" data-field={props.path}>
          {message}
        </li>
      ))}
    </ul>
  );
}

export function Text(props: {
  form: IProjectForm;
  change: (form: IProjectForm) => void;
  name: 'entity' | 'label';
  placeholder: string;
}): JSX.Element {
  const { form, name } = props;
  return (
    <input
      className="jp-mod-styled"
      name={`project.${name}`}
      value={form[name]}
      placeholder={props.placeholder}
      onChange={e => props.change({ ...form, [name]: e.currentTarget.value })}
    />
  );
}

/**
 * A rule's fields: metric, min, max (and slice for a guardrail).
 */
export function RuleRow(props: {
  where: string;
  rule: IRuleFields;
  field: (path: string) => string[];
  sliced?: boolean;
  onChange: (rule: IRuleFields) => void;
}): JSX.Element {
  const { where, rule } = props;
  const keys: (keyof IRuleFields)[] = props.sliced
    ? ['metric', 'min', 'max', 'slice']
    : ['metric', 'min', 'max'];
  const placeholder: Record<keyof IRuleFields, string> = {
    metric: 'roc_auc',
    min: 'min',
    max: 'max',
    slice: 'every value of (column)'
  };
  return (
    <div className="jp-mlops-lc-inline">
      {keys.map(key => (
        <Field
          key={key}
          label={key === 'slice' ? 'Slice' : key === 'metric' ? 'Metric' : key}
          path={`${where}.${key}`}
          problems={props.field(`${where}.${key}`)}
        >
          <input
            className={`jp-mod-styled${key === 'min' || key === 'max' ? ' jp-mlops-lc-number' : ''}`}
            name={`${where}.${key}`}
            value={rule[key]}
            placeholder={placeholder[key]}
            inputMode={key === 'min' || key === 'max' ? 'decimal' : undefined}
            onChange={e =>
              props.onChange({ ...rule, [key]: e.currentTarget.value })
            }
          />
        </Field>
      ))}
    </div>
  );
}

/**
 * The guardrails, one row each (metric, min, max, slice), added and removed.
 */
export function GuardrailsFieldset(props: {
  form: IProjectForm;
  change: (form: IProjectForm) => void;
  field: (path: string) => string[];
}): JSX.Element {
  const { form, change, field } = props;
  return (
    <fieldset
      className="jp-mlops-lc-fieldset"
      data-testid="mlops-project-guardrails"
    >
      <legend>Guardrails</legend>
      <Problems
        messages={field('project.guardrails')}
        path="project.guardrails"
      />
      {form.guardrails.map((rule, i) => (
        <div
          key={i}
          className="jp-mlops-lc-guardrail"
          data-testid="mlops-project-guardrail"
        >
          <Problems
            messages={field(`project.guardrails[${i}]`)}
            path={`project.guardrails[${i}]`}
          />
          <RuleRow
            where={`project.guardrails[${i}]`}
            rule={rule}
            field={field}
            sliced
            onChange={next =>
              change({
                ...form,
                guardrails: form.guardrails.map((g, j) => (j === i ? next : g))
              })
            }
          />
          <button
            type="button"
            className="jp-Button jp-mod-small jp-mlops-button"
            data-testid="mlops-project-guardrail-remove"
            onClick={() =>
              change({
                ...form,
                guardrails: form.guardrails.filter((_, j) => j !== i)
              })
            }
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="jp-Button jp-mod-small jp-mlops-button"
        data-testid="mlops-project-guardrail-add"
        onClick={() =>
          change({ ...form, guardrails: [...form.guardrails, emptyRule()] })
        }
      >
        Add a guardrail
      </button>
    </fieldset>
  );
}

/**
 * The owners: a team per role.
 */
export function OwnersFieldset(props: {
  form: IProjectForm;
  change: (form: IProjectForm) => void;
  field: (path: string) => string[];
}): JSX.Element {
  const { form, change, field } = props;
  return (
    <fieldset className="jp-mlops-lc-fieldset">
      <legend>Owners</legend>
      <Problems messages={field('project.owners')} path="project.owners" />
      {form.owners.map((owner, i) => (
        <div
          key={i}
          className="jp-mlops-lc-inline"
          data-testid="mlops-project-owner"
        >
          {(['role', 'team'] as const).map(key => (
            <input
              key={key}
              className="jp-mod-styled"
              aria-label={key}
              name={`project.owners[${i}].${key}`}
              value={owner[key]}
              placeholder={key}
              onChange={e =>
                change({
                  ...form,
                  owners: form.owners.map((o, j) =>
                    j === i ? { ...o, [key]: e.currentTarget.value } : o
                  )
                })
              }
            />
          ))}
          <button
            type="button"
            className="jp-Button jp-mod-small jp-mlops-button"
            onClick={() =>
              change({
                ...form,
                owners: form.owners.filter((_, j) => j !== i)
              })
            }
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="jp-Button jp-mod-small jp-mlops-button"
        onClick={() =>
          change({
            ...form,
            owners: [...form.owners, { role: '', team: '' }]
          })
        }
      >
        Add an owner
      </button>
    </fieldset>
  );
}
