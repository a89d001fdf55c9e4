/**
 * The project form's pure parts: a definition as editable text fields and
 * back, and the server's problems (`project.guardrails[0].min: ...`) placed
 * next to the fields they name.
 *
 * The form does not judge values itself: what is typed goes to the server
 * (a number field that is not a number is sent as typed), which answers
 * with every problem at once, named by field, the same check `mlops_lab.yaml`
 * gets when it is loaded.
 */
import { IProject, IProjectSpec, IRule } from './types';

export interface IRuleFields {
  metric: string;
  min: string;
  max: string;
  slice: string;
}

export type GateKind = 'min_improvement' | 'non_inferiority';

/**
 * The definition as the form's fields (all text, as typed).
 */
export interface IProjectForm {
  problem: string;
  task: string;
  entity: string;
  label: string;
  objective: IRuleFields;
  guardrails: IRuleFields[];
  gate: { kind: GateKind; value: string };
  serving: { p99_ms: string; error_rate: string; window: string };
  drift: string;
  owners: { role: string; team: string }[];
}

function text(value: number | string | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

function ruleFields(rule: IRule | undefined): IRuleFields {
  return {
    metric: rule?.metric ?? '',
    min: text(rule?.min),
    max: text(rule?.max),
    slice: text(rule?.slice)
  };
}

export function emptyRule(): IRuleFields {
  return { metric: '', min: '', max: '', slice: '' };
}

/**
 * The form for a definition; for none, a start (classification, a
 * `roc_auc` objective to fill in, both owners to name).
 */
export function toForm(project: IProject | null): IProjectForm {
  if (!project || !project.defined) {
    return {
      problem: '',
      task: 'classification',
      entity: '',
      label: '',
      objective: { ...emptyRule(), metric: 'roc_auc' },
      guardrails: [],
      gate: { kind: 'min_improvement', value: '0' },
      serving: { p99_ms: '', error_rate: '', window: '60s' },
      drift: '',
      owners: [
        { role: 'science', team: '' },
        { role: 'engineering', team: '' }
      ]
    };
  }
  const gate = project.gate ?? {};
  const margin = gate.non_inferiority;
  return {
    problem: project.problem ?? '',
    task: project.task ?? 'classification',
    entity: text(project.entity),
    label: text(project.label),
    objective: ruleFields(project.objective),
    guardrails: (project.guardrails ?? []).map(ruleFields),
    gate:
      margin !== null && margin !== undefined
        ? { kind: 'non_inferiority', value: text(margin) }
        : { kind: 'min_improvement', value: text(gate.min_improvement ?? 0) },
    serving: {
      p99_ms: text(project.serving?.p99_ms),
      error_rate: text(project.serving?.error_rate),
      window: text(project.serving?.window)
    },
    drift: text(project.drift?.max_drifted_share),
    owners: Object.entries(project.owners ?? {}).map(([role, team]) => ({
      role,
      team
    }))
  };
}

/**
 * A typed number as a number; what is not one is sent as typed, for the
 * server to name; empty is left out (undefined).
 */
export function numberField(value: string): number | string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') {
    return undefined;
  }
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : trimmed;
}

function textField(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Keep only the keys whose value is stated.
 */
function stated<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined)
  ) as Partial<T>;
}

function toRule(fields: IRuleFields, sliced: boolean): IRule {
  return stated({
    metric: fields.metric.trim(),
    min: numberField(fields.min),
    max: numberField(fields.max),
    slice: sliced ? textField(fields.slice) : undefined
  }) as IRule;
}

/**
 * The definition the form states, as the server takes it (`project:` of
 * `mlops_lab.yaml`): empty fields left out, empty sections too.
 */
export function fromForm(form: IProjectForm): IProjectSpec {
  const gateValue = numberField(form.gate.value);
  const serving = stated({
    p99_ms: numberField(form.serving.p99_ms),
    error_rate: numberField(form.serving.error_rate),
    window: textField(form.serving.window)
  });
  const drift = numberField(form.drift);
  const owners = form.owners
    .filter(o => o.role.trim() && o.team.trim())
    .map(o => [o.role.trim(), o.team.trim()]);
  const hasSlo =
    serving.p99_ms !== undefined || serving.error_rate !== undefined;
  return stated({
    problem: textField(form.problem),
    task: form.task,
    entity: textField(form.entity),
    label: textField(form.label),
    objective: toRule(form.objective, false),
    guardrails: form.guardrails
      .filter(
        g => g.metric.trim() || g.min.trim() || g.max.trim() || g.slice.trim()
      )
      .map(g => toRule(g, true)),
    gate: gateValue === undefined ? undefined : { [form.gate.kind]: gateValue },
    serving: hasSlo ? serving : undefined,
    drift: drift === undefined ? undefined : { max_drifted_share: drift },
    owners: owners.length ? Object.fromEntries(owners) : undefined
  }) as IProjectSpec;
}

/**
 * The field a problem names, and what it says: `project.objective.min:
 * must be a number` as `project.objective.min` and `must be a number`.
 */
export function splitProblem(problem: string): {
  field: string;
  message: string;
} {
  const match = /^(project(?:\.[A-Za-z_]+|\[\d+\])*):\s*(.*)$/s.exec(problem);
  return match
    ? { field: match[1], message: match[2] }
    : { field: '', message: problem };
}

/**
 * Problems by the field they name, for the fields the form shows
 * (`fields`); a problem naming a field not shown goes to its closest shown
 * parent (`project.serving.foo` to `project.serving`), else to `other`.
 */
export function placeProblems(
  problems: string[],
  fields: readonly string[]
): { byField: Record<string, string[]>; other: string[] } {
  const byField: Record<string, string[]> = {};
  const other: string[] = [];
  const shown = new Set(fields);
  for (const problem of problems) {
    const { field, message } = splitProblem(problem);
    let target = field;
    while (target && !shown.has(target)) {
      target = parentField(target);
    }
    if (target) {
      (byField[target] ??= []).push(message);
    } else {
      other.push(problem);
    }
  }
  return { byField, other };
}

/**
 * `project.guardrails[0].min` -> `project.guardrails[0]` -> `project.guardrails`
 * -> `project` -> ``.
 */
export function parentField(field: string): string {
  const cut = Math.max(field.lastIndexOf('.'), field.lastIndexOf('['));
  return cut <= 0 ? '' : field.slice(0, cut);
}

/**
 * Every field path the form shows for `form`, for `placeProblems`.
 */
export function formFields(form: IProjectForm): string[] {
  const rule = (where: string, sliced: boolean) => [
    where,
    `${where}.metric`,
    `${where}.min`,
    `${where}.max`,
    ...(sliced ? [`${where}.slice`] : [])
  ];
  return [
    'project',
    'project.problem',
    'project.task',
    'project.entity',
    'project.label',
    ...rule('project.objective', false),
    'project.guardrails',
    ...form.guardrails.flatMap((_, i) =>
      rule(`project.guardrails[${i}]`, true)
    ),
    'project.gate',
    'project.gate.min_improvement',
    'project.gate.non_inferiority',
    'project.serving',
    'project.serving.p99_ms',
    'project.serving.error_rate',
    'project.serving.window',
    'project.drift',
    'project.drift.max_drifted_share',
    'project.owners'
  ];
}
