import {
  homeIcon,
  LabIcon,
  runIcon,
  tableRowsIcon
} from '@jupyterlab/ui-components';

import type { ViewId } from './sidebar';

/**
 * A 24px icon path, drawn in the theme's icon colour.
 */
function icon(name: string, path: string): LabIcon {
  return new LabIcon({
    name: `mlops-lab:${name}`,
    svgstr:
      '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
      `<path class="jp-icon3" fill="#616161" d="${path}"/></svg>`
  });
}

export const modelsIcon = icon(
  'models',
  'M12 2 3 7v10l9 5 9-5V7l-9-5zm0 2.3L18.7 8 12 11.7 5.3 8 12 4.3zM5 9.7l6 3.3v6.6l-6-3.3V9.7zm8 9.9V13l6-3.3v6.6l-6 3.3z'
);

export const evaluationsIcon = icon(
  'evaluations',
  'M3 3h2v16h16v2H3V3zm4 10h3v5H7v-5zm5-6h3v11h-3V7zm5 3h3v8h-3v-8z'
);

export const handoffsIcon = icon(
  'handoffs',
  'M9 2h6a1 1 0 0 1 1 1v1h2a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2V3a1 1 0 0 1 1-1zm1 2v2h4V4h-4zM6 6v14h12V6h-2v2H8V6H6zm4.5 11.4-3.2-3.2 1.4-1.4 1.8 1.8 4.8-4.8 1.4 1.4-6.2 6.2z'
);

export const deploymentsIcon = icon(
  'deployments',
  'M4 3h16a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1zm1 2v4h14V5H5zm-1 8h16a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-6a1 1 0 0 1 1-1zm1 2v4h14v-4H5zm2-9h2v2H7V6zm0 10h2v2H7v-2z'
);

/**
 * Each sidebar view's tab icon and tooltip (the tab bar shows icons only,
 * so all views fit the sidebar's default width).
 */
export const VIEW_TABS: Record<ViewId, { icon: LabIcon; caption: string }> = {
  overview: { icon: homeIcon, caption: "Overview: the workspace's status" },
  features: {
    icon: tableRowsIcon,
    caption: 'Features: search and use feature views'
  },
  models: {
    icon: modelsIcon,
    caption: 'Models: registered models, versions and aliases'
  },
  evaluations: {
    icon: evaluationsIcon,
    caption: 'Evaluations: metrics, curves, drift, A/B tests and alerts'
  },
  handoffs: {
    icon: handoffsIcon,
    caption: 'Handoffs: notebooks checked to become pipeline stages'
  },
  deployments: {
    icon: deploymentsIcon,
    caption: 'Deployments: model servers, traffic and canary split'
  },
  runs: { icon: runIcon, caption: 'Runs: pipeline runs, live and past' }
};
