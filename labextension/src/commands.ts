/**
 * Command ids of the extension.
 */
export namespace CommandIDs {
  export const refresh = 'mlops-lab:refresh';
  export const showFeatures = 'mlops-lab:show-features';
  export const showRuns = 'mlops-lab:show-runs';
  export const openRun = 'mlops-lab:open-run';
  export const runPipeline = 'mlops-lab:run-pipeline';
  export const runNotebook = 'mlops-lab:run-notebook';
  export const showHandoffs = 'mlops-lab:show-handoffs';
  export const checkHandoff = 'mlops-lab:check-handoff';
  export const showDeployments = 'mlops-lab:show-deployments';
}
