/**
 * Command ids of the extension.
 */
export namespace CommandIDs {
  export const refresh = 'mlops-lab:refresh';
  export const showFeatures = 'mlops-lab:show-features';
  export const showRuns = 'mlops-lab:show-runs';
  export const openRun = 'mlops-lab:open-run';
  // Details opened as main-area tabs (see detailTabs.ts).
  export const openModelVersion = 'mlops-lab:open-model-version';
  export const openModelComparison = 'mlops-lab:open-model-comparison';
  export const openEvaluation = 'mlops-lab:open-evaluation';
  export const openDrift = 'mlops-lab:open-drift';
  export const openRunComparison = 'mlops-lab:open-run-comparison';
  export const openHandoff = 'mlops-lab:open-handoff';
  export const openDeployment = 'mlops-lab:open-deployment';
  export const runPipeline = 'mlops-lab:run-pipeline';
  export const runNotebook = 'mlops-lab:run-notebook';
  export const showHandoffs = 'mlops-lab:show-handoffs';
  export const checkHandoff = 'mlops-lab:check-handoff';
  export const showDeployments = 'mlops-lab:show-deployments';
  export const openLifecycle = 'mlops-lab:open-lifecycle';
}
