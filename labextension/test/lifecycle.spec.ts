import { CommandIDs } from '../src/commands';
import { LifecycleModel } from '../src/lifecycle/model';
import {
  activityCounts,
  byDay,
  filterTimeline,
  kindText
} from '../src/lifecycle/events';
import {
  comparisonCommand,
  linkCommand,
  linkText,
  SHOW_EVALUATIONS
} from '../src/lifecycle/links';
import {
  arrows,
  attention,
  columnOf,
  defineStep,
  flowColumns,
  ITEMS_SHOWN,
  gateText,
  loopSpan,
  loopText,
  projectFacts,
  ruleText,
  visibleItems,
  worst
} from '../src/lifecycle/present';
import { Health, IProjectSpec } from '../src/lifecycle/types';
import { lifecycleFixture } from './lifecycleFixture';

const NOW = new Date('2026-12-01T18:00:00Z');

describe('project card', () => {
  it('reads every stated part of the definition', () => {
    const project = lifecycleFixture().project as IProjectSpec;
    const facts = Object.fromEntries(
      projectFacts(project).map(f => [f.key, f.value])
    );
    expect(facts).toEqual({
      task: 'classification',
      target: 'churned per customer',
      objective: 'roc_auc ≥ 0.75',
      guardrails: 'recall ≥ 0.5 in every segment',
      gate: 'better than the champion',
      serving: 'p99 ≤ 50 ms · errors ≤ 1% · over 60s',
      drift: 'at most 30% of features drifted',
      owners: 'churn-science (science), ml-platform (engineering)'
    });
  });

  it('leaves out what is not stated', () => {
    const facts = projectFacts({
      problem: 'p',
      task: 'regression',
      objective: { metric: 'rmse', max: 3 }
    }).map(f => f.key);
    expect(facts).toEqual([
      'task',
      'target',
      'objective',
      'guardrails',
      'gate'
    ]);
  });

  it('reads rules with both bounds and the gate rules', () => {
    expect(ruleText({ metric: 'mae', min: 0, max: 2.5, slice: 'region' })).toBe(
      'mae ≥ 0 and ≤ 2.5 in every region'
    );
    expect(gateText({ non_inferiority: 0.01 })).toBe(
      'not worse than the champion by more than 0.01'
    );
    expect(gateText(undefined)).toBe('better than the champion');
    expect(gateText({ min_improvement: 0.02 })).toBe(
      'better than the champion by at least 0.02'
    );
  });
});

describe('the Define step', () => {
  it('judges the checks: a missed guardrail needs attention', () => {
    const { project, checks } = lifecycleFixture();
    const step = defineStep(project, checks);
    expect(step.status).toBe('warn');
    expect(step.summary).toBe('1 of 2 rules not met.');
    expect(step.items.map(i => [i.label, i.status])).toEqual([
      ['roc_auc ≥ 0.75: 0.81', 'ok'],
      ['recall ≥ 0.5 in every segment: 0.44', 'warn']
    ]);
    expect(step.items[1].detail).toBe('churn/2, segment=smb · worst: smb');
    expect(step.items[1].link).toEqual({ kind: 'evaluation', id: 'e7' });
  });

  it('fails when the objective is missed, and waits when nothing is measured', () => {
    const { project, checks } = lifecycleFixture();
    const missed = [{ ...checks[0], value: 0.7, met: false }];
    expect(defineStep(project, missed).status).toBe('bad');
    const none = defineStep(project, []);
    expect(none.status).toBe('idle');
    expect(none.summary).toBe('No champion judged against the rules yet.');
    const unjudged = defineStep(project, [
      {
        ...checks[1],
        value: null,
        met: null,
        worst_slice: undefined,
        why_unjudged: 'recall per segment was not measured'
      }
    ]);
    expect(unjudged.items[0].status).toBe('idle');
    expect(unjudged.items[0].label).toBe(
      'recall ≥ 0.5 in every segment: not measured'
    );
    expect(unjudged.summary).toBe('All 1 rules met.');
  });

  it('asks for a definition when there is none', () => {
    const step = defineStep({ defined: false, file: '/w/mlops_lab.yaml' }, []);
    expect(step.status).toBe('warn');
    expect(step.summary).toMatch(/^No project definition/);
  });
});

describe('the flow', () => {
  it('has four columns, Deploy & monitor holding two cards', () => {
    const columns = flowColumns(lifecycleFixture());
    expect(
      columns.map(c => [c.title, c.steps.map(s => s.id), c.status])
    ).toEqual([
      ['Define', ['define'], 'warn'],
      ['Data', ['data'], 'ok'],
      ['Train', ['train'], 'warn'],
      ['Deploy & monitor', ['deploy', 'monitor'], 'bad']
    ]);
  });

  it('lists what is not on track, failing first', () => {
    expect(attention(lifecycleFixture()).map(l => l.status)).toEqual([
      'bad',
      'warn',
      'warn'
    ]);
    expect(attention(lifecycleFixture())[0].text).toBe('Monitor: 1 open alert');
  });

  it('orders healths', () => {
    expect(worst(['ok', 'idle'])).toBe('ok');
    expect(worst(['ok', 'warn', 'bad'])).toBe('bad');
    expect(worst([])).toBe('idle');
  });
});

describe('loops', () => {
  it('span the columns they join, pointing back or forward', () => {
    const spans = Object.fromEntries(
      lifecycleFixture().loops.map(l => [l.id, loopSpan(l)])
    );
    expect(spans).toEqual({
      retrain: { start: 2, end: 3, back: true },
      new_data: { start: 1, end: 2, back: false },
      gate_held: { start: 1, end: 2, back: true },
      objective_missed: { start: 0, end: 3, back: true }
    });
    expect(columnOf('deploy')).toBe(3);
    expect(columnOf('unknown')).toBe(3);
  });

  it('say how often they fired and when last', () => {
    const [retrain, newData, gateHeld] = lifecycleFixture().loops;
    expect(loopText(retrain, NOW)).toBe('fired 1× · last 2 h ago');
    expect(loopText(newData, NOW)).toBe('not fired yet');
    expect(loopText(gateHeld, NOW)).toBe('fired 2× · last 3 d ago');
    expect(loopText({ ...gateHeld, last_at: null }, NOW)).toBe('fired 2×');
  });
});

describe('the timeline', () => {
  it('filters by activity, all when none is chosen', () => {
    const events = lifecycleFixture().timeline;
    expect(filterTimeline(events, new Set()).length).toBe(3);
    expect(
      filterTimeline(events, new Set(['CT', 'CD'])).map(e => e.kind)
    ).toEqual(['run', 'promotion']);
  });

  it('names kinds for reading', () => {
    expect(kindText('alert_opened')).toBe('Alert opened');
    expect(kindText('deployment')).toBe('Deployment');
    expect(kindText('rollout_decision')).toBe('Rollout step');
    expect(kindText('feature_refresh')).toBe('feature refresh');
  });
});

describe('links', () => {
  it('open the item tab where there is one', () => {
    expect(linkCommand({ kind: 'model', id: 'churn', version: 2 })).toEqual({
      command: CommandIDs.openModelVersion,
      args: { name: 'churn', version: 2 }
    });
    expect(linkCommand({ kind: 'run', id: 'r42' })).toEqual({
      command: CommandIDs.openRun,
      args: { runId: 'r42' }
    });
    expect(linkCommand({ kind: 'deployment', id: 'd1' })?.command).toBe(
      CommandIDs.openDeployment
    );
    expect(linkCommand({ kind: 'drift', id: 'dr1' })?.command).toBe(
      CommandIDs.openDrift
    );
    expect(linkCommand({ kind: 'evaluation', id: 'e1' })?.command).toBe(
      CommandIDs.openEvaluation
    );
    expect(
      linkCommand({ kind: 'feature_view', id: 'spend', version: 2 })
    ).toEqual({
      command: CommandIDs.showFeatures,
      args: { name: 'spend', version: 2 }
    });
  });

  it('open a gate decision as its versions side by side', () => {
    expect(
      comparisonCommand({ model: 'churn', baseline: 1, candidate: 3 })
    ).toEqual({
      command: CommandIDs.openModelComparison,
      args: { name: 'churn', versions: '1,3' }
    });
  });

  it('show the view listing the item when it has no tab, or nothing', () => {
    expect(linkCommand({ kind: 'alert', id: 'a1' })?.command).toBe(
      SHOW_EVALUATIONS
    );
    expect(linkCommand({ kind: 'comparison', id: 'c1' })?.command).toBe(
      SHOW_EVALUATIONS
    );
    expect(
      linkCommand({ kind: 'dataset', id: 'transactions', version: 3 })
    ).toBeNull();
  });

  it('name what they open', () => {
    expect(linkText({ kind: 'model', id: 'churn', version: 2 })).toBe(
      'model churn v2'
    );
    expect(linkText({ kind: 'dataset', id: 'tx', version: 3 })).toBe(
      'dataset tx@3'
    );
    expect(linkText({ kind: 'feature_view', id: 'spend' })).toBe(
      'feature view spend'
    );
  });
});

describe('LifecycleModel', () => {
  it('keeps the last lifecycle when a refresh fails', async () => {
    let fail = false;
    const model = new LifecycleModel({
      api: {
        lifecycle: () =>
          fail
            ? Promise.reject(new Error('server down'))
            : Promise.resolve(lifecycleFixture()),
        project: () => Promise.reject(new Error('unused')),
        validate: () => Promise.reject(new Error('unused')),
        save: () => Promise.reject(new Error('unused')),
        comparison: () => Promise.reject(new Error('unused'))
      }
    });
    await model.refresh();
    expect(model.state.lifecycle?.generated_at).toBe('2026-12-01T18:00:00Z');
    fail = true;
    await model.refresh();
    expect(model.state.error?.message).toContain('server down');
    expect(model.state.lifecycle?.loops.length).toBe(4);
    expect(model.state.loading).toBe(false);
    model.dispose();
  });
});

describe('arrows', () => {
  it('draws the ASCII arrows of server labels', () => {
    expect(arrows('Alert -> retrain (CT)')).toBe('Alert → retrain (CT)');
    expect(arrows('churn v2->champion')).toBe('churn v2 → champion');
    expect(arrows('rmse <= 3 and r2 >= 0.5')).toBe('rmse ≤ 3 and r2 ≥ 0.5');
  });
});

describe('timeline days and counts', () => {
  it('groups events by day, in order', () => {
    const now = new Date(2026, 11, 1, 18, 0);
    const at = (day: number, hour: number) => ({
      at: new Date(2026, 11, day, hour).toISOString()
    });
    const groups = byDay([at(1, 17), at(1, 9), at(0, 23), at(-1, 8)], now);
    expect(groups.map(g => [g.day, g.events.length])).toEqual([
      ['Today', 2],
      ['Yesterday', 1],
      [expect.stringContaining('29'), 1]
    ]);
    expect(byDay([{ at: 'soon' }], now)[0].day).toBe('Unknown');
  });

  it('counts events per activity', () => {
    expect(activityCounts(lifecycleFixture().timeline)).toEqual({
      CM: 1,
      CT: 1,
      CD: 1
    });
  });
});

describe('step items', () => {
  it('shows the first few and never hides one that is not on track', () => {
    const items = ['ok', 'ok', 'idle', 'ok', 'ok', 'bad', 'ok'].map(
      (status, i) => ({ status: status as Health, label: `i${i}` })
    );
    const folded = visibleItems(items, false);
    expect(folded.shown.map(i => i.label)).toEqual([
      'i0',
      'i1',
      'i2',
      'i3',
      'i5'
    ]);
    expect(folded.hidden).toBe(2);
    expect(visibleItems(items, true)).toEqual({ shown: items, hidden: 0 });
    expect(ITEMS_SHOWN).toBe(4);
  });
});
