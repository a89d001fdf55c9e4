/**
 * The Lifecycle view's pure parts: the Define step derived from the
 * definition and its checks, the flow's columns, the loops' spans and
 * texts, the project card's facts, and what needs attention (the
 * timeline's in events.ts, the links' in links.ts).
 */
import { formatAge, formatMetric, formatNumber, formatShare } from '../format';
import {
  Health,
  ICheck,
  ILifecycle,
  ILoop,
  IProject,
  IProjectSpec,
  IRule,
  IStep,
  IStepItem
} from './types';

export const HEALTH_TEXT: Record<Health, string> = {
  ok: 'On track',
  warn: 'Needs attention',
  bad: 'Failing',
  idle: 'Nothing yet'
};

/**
 * The worse of the healths (`bad` > `warn` > `ok` > `idle`).
 */
export function worst(healths: Health[]): Health {
  const order: Health[] = ['bad', 'warn', 'ok'];
  return order.find(h => healths.includes(h)) ?? 'idle';
}

/**
 * A bound on a metric for reading: `roc_auc ≥ 0.75`, `rmse ≤ 3 in every
 * region`.
 */
export function ruleText(rule: IRule): string {
  const bounds: string[] = [];
  if (rule.min !== null && rule.min !== undefined) {
    bounds.push(`≥ ${formatNumber(rule.min)}`);
  }
  if (rule.max !== null && rule.max !== undefined) {
    bounds.push(`≤ ${formatNumber(rule.max)}`);
  }
  const where = rule.slice ? ` in every ${rule.slice}` : '';
  return `${rule.metric} ${bounds.join(' and ')}${where}`.trim();
}

/**
 * The gate's rule for reading.
 */
export function gateText(gate: IProjectSpec['gate']): string {
  if (gate?.non_inferiority !== null && gate?.non_inferiority !== undefined) {
    return `not worse than the champion by more than ${formatNumber(gate.non_inferiority)}`;
  }
  const improvement = gate?.min_improvement ?? 0;
  return improvement
    ? `better than the champion by at least ${formatNumber(improvement)}`
    : 'better than the champion';
}

/**
 * One line of the project card.
 */
export interface IFact {
  key: string;
  label: string;
  value: string;
}

/**
 * What the project card lists: each part of the definition that is stated.
 */
export function projectFacts(spec: IProjectSpec): IFact[] {
  const facts: IFact[] = [
    { key: 'task', label: 'Task', value: spec.task },
    {
      key: 'target',
      label: 'Predicts',
      value:
        spec.label || spec.entity
          ? `${spec.label ?? '?'} per ${spec.entity ?? '?'}`
          : '–'
    },
    { key: 'objective', label: 'Objective', value: ruleText(spec.objective) },
    {
      key: 'guardrails',
      label: 'Guardrails',
      value: spec.guardrails?.length
        ? spec.guardrails.map(ruleText).join('; ')
        : 'none'
    },
    { key: 'gate', label: 'Gate', value: gateText(spec.gate) }
  ];
  const serving = spec.serving;
  if (serving) {
    const parts: string[] = [];
    if (serving.p99_ms !== null && serving.p99_ms !== undefined) {
      parts.push(`p99 ≤ ${formatNumber(serving.p99_ms)} ms`);
    }
    if (serving.error_rate !== null && serving.error_rate !== undefined) {
      parts.push(`errors ≤ ${formatShare(serving.error_rate)}`);
    }
    if (serving.window) {
      parts.push(`over ${serving.window}`);
    }
    facts.push({
      key: 'serving',
      label: 'Serving SLO',
      value: parts.join(' · ')
    });
  }
  const share = spec.drift?.max_drifted_share;
  if (share !== null && share !== undefined) {
    facts.push({
      key: 'drift',
      label: 'Drift',
      value: `at most ${formatShare(share)} of features drifted`
    });
  }
  const owners = Object.entries(spec.owners ?? {});
  if (owners.length) {
    facts.push({
      key: 'owners',
      label: 'Owners',
      value: owners.map(([role, team]) => `${team} (${role})`).join(', ')
    });
  }
  return facts;
}

/**
 * A check as a step item: `roc_auc ≥ 0.75: 0.81` on its subject, linking
 * to the evaluation judged.
 */
function checkItem(check: ICheck): IStepItem {
  const value =
    check.value === null ? 'not measured' : formatMetric(check.value);
  const worstSlice =
    check.worst_slice !== null && check.worst_slice !== undefined
      ? ` · worst: ${check.worst_slice}`
      : '';
  const why = check.why_unjudged ? ` · ${check.why_unjudged}` : '';
  return {
    label: `${arrows(check.text)}: ${value}`,
    detail: `${check.subject}${worstSlice}${why}`,
    status: check.met === null ? 'idle' : check.met ? 'ok' : rulePenalty(check),
    link: check.evaluation ? { kind: 'evaluation', id: check.evaluation } : null
  };
}

/**
 * A missed objective fails the project; a missed guardrail needs attention.
 */
function rulePenalty(check: ICheck): Health {
  return check.rule === 'project.objective' ? 'bad' : 'warn';
}

/**
 * The first step, Define: the definition and how the latest model version
 * measures against its rules.
 */
export function defineStep(project: IProject, checks: ICheck[]): IStep {
  if (!project.defined) {
    return {
      id: 'define',
      title: 'Define the project',
      status: 'warn',
      summary:
        'No project definition: state the objective, guardrails and SLO so the gate, monitoring and alerts judge against them.',
      items: []
    };
  }
  const items = checks.map(checkItem);
  const missed = checks.filter(c => c.met === false).length;
  let summary: string;
  if (!checks.length) {
    summary = 'No champion judged against the rules yet.';
  } else if (missed) {
    summary = `${missed} of ${checks.length} rules not met.`;
  } else {
    summary = `All ${checks.length} rules met.`;
  }
  return {
    id: 'define',
    title: 'Define the project',
    status: checks.length ? worst(items.map(i => i.status)) : 'idle',
    summary,
    items
  };
}

/**
 * How many items a step card shows before "N more".
 */
export const ITEMS_SHOWN = 4;

/**
 * The items a step card shows: the first `ITEMS_SHOWN` and every one that
 * is not on track (never hidden), or all when `expanded`; `hidden` is how
 * many are left out.
 */
export function visibleItems<T extends { status: Health }>(
  items: T[],
  expanded: boolean
): { shown: T[]; hidden: number } {
  const shown = expanded
    ? items
    : items.filter(
        (item, i) =>
          i < ITEMS_SHOWN || item.status === 'bad' || item.status === 'warn'
      );
  return { shown, hidden: items.length - shown.length };
}

/**
 * One column of the flow, left to right: Define, Data, Train, Deploy &
 * monitor (two cards).
 */
export interface IColumn {
  id: string;
  title: string;
  steps: IStep[];
  status: Health;
}

const COLUMNS: { id: string; title: string; steps: string[] }[] = [
  { id: 'define', title: 'Define', steps: ['define'] },
  { id: 'data', title: 'Data', steps: ['data'] },
  { id: 'train', title: 'Train', steps: ['train'] },
  { id: 'operate', title: 'Deploy & monitor', steps: ['deploy', 'monitor'] }
];

export function flowColumns(lifecycle: ILifecycle): IColumn[] {
  const steps = [
    defineStep(lifecycle.project, lifecycle.checks),
    ...lifecycle.steps
  ];
  return COLUMNS.map(column => {
    const found = column.steps
      .map(id => steps.find(s => s.id === id))
      .filter((s): s is IStep => s !== undefined);
    return {
      id: column.id,
      title: column.title,
      steps: found,
      status: worst(found.map(s => s.status))
    };
  });
}

/**
 * The column (from 0) a step is drawn in.
 */
export function columnOf(step: string): number {
  const index = COLUMNS.findIndex(c => c.steps.includes(step));
  return index < 0 ? COLUMNS.length - 1 : index;
}

/**
 * Where a loop's arrow is drawn beneath the flow: from column `start` to
 * `end` (from 0, inclusive), pointing `back` (to the left) or not.
 */
export interface ILoopSpan {
  start: number;
  end: number;
  back: boolean;
}

export function loopSpan(loop: ILoop): ILoopSpan {
  const from = columnOf(loop.from);
  const to = columnOf(loop.to);
  return {
    start: Math.min(from, to),
    end: Math.max(from, to),
    back: to <= from
  };
}

/**
 * How often a loop fired and when last: `fired 2× · last 2 h ago`.
 */
export function loopText(loop: ILoop, now: Date = new Date()): string {
  if (!loop.fired) {
    return 'not fired yet';
  }
  const last = loop.last_at ? ` · last ${formatAge(loop.last_at, now)}` : '';
  return `fired ${loop.fired}×${last}`;
}

/**
 * A server label with its ASCII arrows and bounds drawn: `Alert -> retrain`
 * as `Alert → retrain`, `roc_auc >= 0.75` as `roc_auc ≥ 0.75`.
 */
export function arrows(text: string): string {
  return text
    .replace(/\s*->\s*/g, ' → ')
    .replace(/\s>=\s/g, ' ≥ ')
    .replace(/\s<=\s/g, ' ≤ ');
}

/**
 * The lines a team lead reads first: every step and rule that is not on
 * track, worst first.
 */
export function attention(
  lifecycle: ILifecycle
): { status: Health; text: string }[] {
  const lines = flowColumns(lifecycle)
    .flatMap(c => c.steps)
    .filter(s => s.status === 'bad' || s.status === 'warn')
    .map(s => ({ status: s.status, text: `${s.title}: ${s.summary}` }));
  return [
    ...lines.filter(l => l.status === 'bad'),
    ...lines.filter(l => l.status === 'warn')
  ];
}
