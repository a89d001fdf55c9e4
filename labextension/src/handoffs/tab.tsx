import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { ModelTab } from '../modelTab';
import { HandoffDetail } from './detail';
import { HandoffsModel, IHandoffsState } from './model';

/**
 * A handoff report in a main-area tab, titled
 * "handoff: 07_exploration.ipynb": the Handoffs view's detail (findings,
 * metrics, contract, report) through a model of its own, which loads the
 * handoff with `GET handoffs/{id}`.
 */
export function createHandoffTab(
  options: HandoffsModel.IOptions,
  id: string,
  rendermime: IRenderMimeRegistry | null
): ModelTab<IHandoffsState> {
  // No "Open in a tab" inside the tab itself.
  const links = { ...options.links, openTab: undefined };
  const model = new HandoffsModel({ ...options, links });
  const tab = new ModelTab<IHandoffsState>({
    model,
    render: state => (
      <HandoffDetail model={model} state={state} rendermime={rendermime} />
    ),
    title: state => {
      const notebook = state.detail?.notebook;
      return notebook
        ? {
            label: `handoff: ${notebook.split('/').pop()}`,
            caption: `Handoff ${id} of ${notebook}: ${state.detail?.status}`
          }
        : { label: `handoff ${id}` };
    },
    testid: 'mlops-handoff-tab'
  });
  tab.addClass('jp-mlops-handoff-tab');
  void model.select(id);
  return tab;
}
