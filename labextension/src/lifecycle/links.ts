/**
 * Which command opens what a lifecycle link points at.
 */
import { CommandIDs } from '../commands';
import { ILifecycleLink } from './types';

/**
 * The command that shows the Evaluations view (gate decisions, alerts).
 */
export const SHOW_EVALUATIONS = 'mlops-lab:show-evaluations';

/**
 * What a link points at, for a button's tooltip: `model churn v2`.
 */
export function linkText(link: ILifecycleLink): string {
  const version =
    link.version !== null && link.version !== undefined
      ? link.kind === 'model'
        ? ` v${link.version}`
        : `@${link.version}`
      : '';
  return `${link.kind.replace(/_/g, ' ')} ${link.id}${version}`;
}

/**
 * The command (and its arguments) that opens a link's item: its main-area
 * tab where it has one, else the sidebar view listing it; null when nothing
 * shows it (a dataset version: its detail is shown inline).
 */
export function linkCommand(
  link: ILifecycleLink
): { command: string; args: { [key: string]: string | number | null } } | null {
  switch (link.kind) {
    case 'model':
      return link.version
        ? {
            command: CommandIDs.openModelVersion,
            args: { name: link.id, version: link.version }
          }
        : { command: 'mlops-lab:show-models', args: {} };
    case 'run':
      return { command: CommandIDs.openRun, args: { runId: link.id } };
    case 'deployment':
      return { command: CommandIDs.openDeployment, args: { id: link.id } };
    case 'drift':
      return { command: CommandIDs.openDrift, args: { id: link.id } };
    case 'evaluation':
      return { command: CommandIDs.openEvaluation, args: { id: link.id } };
    case 'feature_view':
      return {
        command: CommandIDs.showFeatures,
        args: { name: link.id, version: link.version ?? null }
      };
    // Gate decisions and alerts are listed in the Evaluations view.
    case 'comparison':
    case 'alert':
      return { command: SHOW_EVALUATIONS, args: {} };
    default:
      return null;
  }
}

/**
 * The tab comparing a gate decision's versions side by side.
 */
export function comparisonCommand(comparison: {
  model: string;
  baseline: number;
  candidate: number;
}): { command: string; args: { name: string; versions: string } } {
  return {
    command: CommandIDs.openModelComparison,
    args: {
      name: comparison.model,
      versions: `${comparison.baseline},${comparison.candidate}`
    }
  };
}
