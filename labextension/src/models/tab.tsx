import * as React from 'react';

import { LoadedTab } from '../loadedTab';
import { ModelTab } from '../modelTab';
import { VersionComparison } from './compare';
import { IModelsState, ModelsModel } from './model';
import { IModelComparison, IModelsApi } from './types';
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
  const links = {
    ...options.links,
    openVersionTab: undefined,
    openComparisonTab: undefined
  };
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

/**
 * Versions of a model side by side in a main-area tab, titled "churn v1 ↔
 * v2": loaded with `GET models/{name}/compare?versions=...`.
 */
export function createComparisonTab(
  api: Pick<IModelsApi, 'compare'>,
  name: string,
  versions: number[]
): LoadedTab<IModelComparison> {
  const label = `${name} ${versions.map(v => `v${v}`).join(' ↔ ')}`;
  const tab = new LoadedTab<IModelComparison>({
    load: () => api.compare(name, versions),
    title: () => ({
      label,
      caption: `Model ${name}: versions ${versions.join(', ')} side by side`
    }),
    render: comparison => <VersionComparison comparison={comparison} />,
    what: 'comparison',
    testid: 'mlops-model-compare-tab'
  });
  tab.addClass('jp-mlops-model-compare-tab');
  return tab;
}
