import { MlopsApiError } from '../request';
import { IFinding, IHandoff, IStageChange, IStageTaken } from './types';

/*
 * What a check's outcome means for the user: the failed clean run to
 * open, what became of mlops_lab.yaml, a stage name already taken.
 */

/**
 * The finding of the clean run when it failed and its executed notebook
 * can be opened.
 */
export function failedCleanRun(
  handoff: IHandoff | null
): (IFinding & { runId: string; stage: string }) | null {
  const finding = handoff?.findings.find(
    f => f.check === 'clean_run' && f.status === 'fail'
  );
  const runId = finding?.details.run_id ?? handoff?.check_run;
  const stage = finding?.details.stage;
  if (!finding || typeof runId !== 'string' || typeof stage !== 'string') {
    return null;
  }
  return { ...finding, runId, stage };
}

/**
 * What a ready check left in mlops_lab.yaml, said after it (`change`: the
 * preview or the write of its stage; null: it could not be previewed).
 */
export function pipelineNotice(
  handoff: IHandoff,
  change: IStageChange | null
): string {
  const where = `stage ${handoff.stage} of pipeline ${handoff.pipeline}`;
  if (!change) {
    return `Ready as ${where}; mlops_lab.yaml was not changed`;
  }
  if (change.written) {
    return `Ready: ${where} written to mlops_lab.yaml`;
  }
  if (change.declared) {
    return change.changed
      ? `Ready as ${where} of mlops_lab.yaml (its inputs or outputs there ` +
          'differ from the check; the file was not changed)'
      : `Ready as ${where} of mlops_lab.yaml (already there, not changed)`;
  }
  return `Ready; mlops_lab.yaml was not changed (${where} not added)`;
}

/**
 * The stage a check was refused for, and the free name offered (a 409
 * `StageTakenError`), or null for any other error.
 */
export function stageTaken(error: MlopsApiError): IStageTaken | null {
  const { stage, taken_by, suggested_stage } = error.details;
  if (
    error.code !== 'StageTakenError' ||
    typeof suggested_stage !== 'string' ||
    typeof taken_by !== 'string'
  ) {
    return null;
  }
  return {
    stage: typeof stage === 'string' ? stage : '',
    takenBy: taken_by,
    suggested: suggested_stage
  };
}
