import * as React from 'react';

import { ModelTab } from '../modelTab';
import { IModelsState, ModelsModel } from './model';
import { VersionDetail } from './version';

/**
 * A model version in a main-area tab, titled "churn v3": the Models view's
 * version detail (signature, lineage, try a prediction, parameters,
 * evaluations, promotion) through a model of its own, which loads the
 * version with `GET models/{name}` and `GET models/{name}/versions/{v}`.
 */
export function createVersionTab(
  options: ModelsModel.IOptions,
  name: string,
  version: number
): ModelTab<IModelsState> {
  // No "Open in a tab" inside the tab itself.
  const links = { ...options.links, openVersionTab: undefined };
  const model = new ModelsModel({ ...options, links });
  const tab = new ModelTab<IModelsState>({
    model,
    render: state => <VersionDetail model={model} state={state} />,
    title: state => ({
      label: `${name} v${version}`,
      caption:
        `Model ${name}, version ${version}` +
        (state.versionDetail?.aliases.length
          ? ` (${state.versionDetail.aliases.join(', ')})`
          : '')
    }),
    testid: 'mlops-version-tab'
  });
  tab.addClass('jp-mlops-version-tab');
  void model.select(name).then(() => model.selectVersion(version));
  return tab;
}
