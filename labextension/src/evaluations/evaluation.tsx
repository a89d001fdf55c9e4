import * as React from 'react';

import { EvaluationCharts } from './charts';
import { When } from '../components';
import { ConfusionMatrix, SliceTable } from './tables';
import { IEvaluationDetail } from './types';

/**
 * An evaluation's curves or residuals, confusion matrix and per-slice
 * metrics: in the sidebar's Evaluations view and in its main-area tab.
 */
export function EvaluationBody(props: {
  evaluation: IEvaluationDetail;
  busy?: boolean;
}): JSX.Element {
  const { evaluation } = props;
  return (
    <div
      className="jp-mlops-eval-detail"
      data-evaluation={evaluation.id}
      data-task={evaluation.task}
      aria-busy={props.busy ?? false}
    >
      <p className="jp-mlops-meta">
        {evaluation.task} of <code>{evaluation.label}</code> · {evaluation.rows}{' '}
        rows · <When iso={evaluation.created_at} />
      </p>
      <EvaluationCharts evaluation={evaluation} />
      {evaluation.confusion_matrix && (
        <div className="jp-mlops-eval-block">
          <h4 className="jp-mlops-eval-subtitle">Confusion matrix</h4>
          <ConfusionMatrix matrix={evaluation.confusion_matrix} />
        </div>
      )}
      {evaluation.slice_metrics.length > 0 && (
        <div className="jp-mlops-eval-block">
          <h4 className="jp-mlops-eval-subtitle">
            By {evaluation.slices.join(', ') || 'slice'}
          </h4>
          <SliceTable slices={evaluation.slice_metrics} />
        </div>
      )}
    </div>
  );
}

/**
 * An evaluation's name: the dataset it was evaluated on and the version,
 * e.g. "eval holdout@2 · churn v3".
 */
export function evaluationLabel(evaluation: IEvaluationDetail): string {
  return (
    `eval ${evaluation.dataset}@${evaluation.dataset_version} · ` +
    `${evaluation.model} v${evaluation.version}`
  );
}
