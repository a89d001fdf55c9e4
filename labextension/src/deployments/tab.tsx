import * as React from 'react';

import { ModelTab } from '../modelTab';
import { DeploymentDetail } from './detail';
import { DeploymentsModel, IDeploymentsState } from './model';

/**
 * A deployment's dashboard in a main-area tab, titled
 * "deployment: churn@prod": the Deployments view's detail (traffic,
 * errors, latency over time, split, features, log) through a model of its
 * own, which loads it with `GET deployments/{id}` and reloads it while the
 * tab is shown.
 */
export function createDeploymentTab(
  options: DeploymentsModel.IOptions,
  id: string
): ModelTab<IDeploymentsState> {
  // No "Open in a tab" inside the tab itself.
  const model = new DeploymentsModel({ ...options, openTab: undefined });
  const tab = new ModelTab<IDeploymentsState>({
    model,
    render: state => <DeploymentDetail model={model} state={state} />,
    title: state => {
      const ref = state.detail?.ref;
      return ref
        ? {
            label: `deployment: ${ref}`,
            caption: `Deployment ${id} of ${ref} at ${state.detail?.url}`
          }
        : { label: `deployment ${id}` };
    },
    testid: 'mlops-deployment-tab',
    onShown: () => model.startPolling(),
    onHidden: () => model.stopPolling()
  });
  tab.addClass('jp-mlops-deployment-tab');
  void model.select(id);
  return tab;
}
