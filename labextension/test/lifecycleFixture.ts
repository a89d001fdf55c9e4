import { ILifecycle } from '../src/lifecycle/types';

/**
 * A lifecycle as `GET lifecycle` answers it: a churn project whose latest
 * version meets the objective but misses a guardrail in one segment, one
 * CT retrain fired by an alert, and the gate held twice.
 */
export function lifecycleFixture(): ILifecycle {
  return {
    generated_at: '2026-12-01T18:00:00Z',
    project: {
      defined: true,
      file: '/work/demo/mlops_lab.yaml',
      problem: 'Predict which customers will churn within 30 days',
      task: 'classification',
      entity: 'customer',
      label: 'churned',
      objective: { metric: 'roc_auc', min: 0.75 },
      guardrails: [{ metric: 'recall', min: 0.5, slice: 'segment' }],
      gate: { min_improvement: 0.0 },
      serving: { p99_ms: 50, error_rate: 0.01, window: '60s' },
      drift: { max_drifted_share: 0.3 },
      owners: { science: 'churn-science', engineering: 'ml-platform' }
    },
    steps: [
      {
        id: 'data',
        title: 'Collect and prepare data',
        status: 'ok',
        summary: '2 datasets, newest 2 h ago',
        items: [
          {
            label: 'transactions@3',
            detail: '12,000 rows · 2 h ago',
            status: 'ok',
            link: { kind: 'dataset', id: 'transactions', version: 3 }
          }
        ]
      },
      {
        id: 'train',
        title: 'Train and evaluate',
        status: 'warn',
        summary: 'churn v2 misses a guardrail',
        items: [
          {
            label: 'churn v2',
            detail: 'roc_auc 0.81 · recall 0.44 in smb',
            status: 'warn',
            link: { kind: 'model', id: 'churn', version: 2 }
          },
          {
            label: 'Gate: hold',
            detail: 'v3 vs v2',
            status: 'warn',
            link: { kind: 'comparison', id: 'c1' }
          }
        ]
      },
      {
        id: 'deploy',
        title: 'Deploy',
        status: 'ok',
        summary: 'churn@champion served',
        items: [
          {
            label: 'churn@champion',
            detail: 'v2 · 100% · SLO met',
            status: 'ok',
            link: { kind: 'deployment', id: 'd1' }
          }
        ]
      },
      {
        id: 'monitor',
        title: 'Monitor',
        status: 'bad',
        summary: '1 open alert',
        items: [
          {
            label: 'Drift: 40% of features',
            status: 'bad',
            link: { kind: 'drift', id: 'dr1' }
          },
          {
            label: 'Alert: drift on churn',
            status: 'bad',
            link: { kind: 'alert', id: 'a1' }
          }
        ]
      }
    ],
    checks: [
      {
        rule: 'project.objective',
        text: 'roc_auc >= 0.75',
        value: 0.81,
        met: true,
        subject: 'churn/2 on holdout@1'
      },
      {
        rule: 'project.guardrails[0]',
        text: 'recall >= 0.5 in every segment',
        value: 0.44,
        met: false,
        subject: 'churn/2, segment=smb',
        worst_slice: 'smb',
        evaluation: 'e7'
      }
    ],
    loops: [
      {
        id: 'retrain',
        from: 'monitor',
        to: 'train',
        label: 'Alert -> retrain (CT)',
        fired: 1,
        last_at: '2026-12-01T16:00:00Z',
        link: { kind: 'run', id: 'r42' }
      },
      {
        id: 'new_data',
        from: 'data',
        to: 'train',
        label: 'New data -> rerun',
        fired: 0,
        last_at: null,
        link: null
      },
      {
        id: 'gate_held',
        from: 'train',
        to: 'data',
        label: 'Gate held -> more data or features',
        fired: 2,
        last_at: '2026-11-28T18:00:00Z',
        link: { kind: 'comparison', id: 'c1' }
      },
      {
        id: 'objective_missed',
        from: 'monitor',
        to: 'define',
        label: 'Live model misses the objective -> redefine',
        fired: 0,
        last_at: null,
        link: null
      }
    ],
    timeline: [
      {
        at: '2026-12-01T17:30:00Z',
        activity: 'CM',
        kind: 'alert_opened',
        title: 'Drift alert on churn',
        detail: '40% of features drifted',
        link: { kind: 'alert', id: 'a1' }
      },
      {
        at: '2026-12-01T16:00:00Z',
        activity: 'CT',
        kind: 'run',
        title: 'churn run r42 started by alert a1',
        link: { kind: 'run', id: 'r42' }
      },
      {
        at: '2026-12-01T10:00:00Z',
        activity: 'CD',
        kind: 'promotion',
        title: 'churn v2 -> champion',
        link: { kind: 'model', id: 'churn', version: 2 }
      }
    ]
  };
}
