import { UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ShownReactWidget } from '../shown';
import { LifecycleModel } from './model';
import { LifecycleView } from './view';
import { ILifecycleLink } from './types';

/**
 * The Lifecycle view as a main-area widget: it polls the lifecycle while it
 * is shown (every `LIFECYCLE_POLL_INTERVAL`), and stops when hidden.
 */
export class LifecycleWidget extends ShownReactWidget {
  constructor(options: LifecycleWidget.IOptions) {
    super();
    this._model = options.model;
    this._openLink = options.openLink;
    this.addClass('jp-mlops-tab');
    this.addClass('jp-mlops-lifecycle-tab');
    this.node.dataset.testid = 'mlops-lifecycle-tab';
    this.title.label = 'Lifecycle';
    this.title.caption =
      'The project through its steps: define, data, train, deploy & monitor';
  }

  get model(): LifecycleModel {
    return this._model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.dispose();
    super.dispose();
  }

  protected onShown(): void {
    this._model.startPolling();
  }

  protected onHidden(): void {
    this._model.stopPolling();
  }

  protected render(): JSX.Element {
    const model = this._model;
    return (
      <div className="jp-mlops-tab-body">
        <UseSignal signal={model.stateChanged} initialArgs={model.state}>
          {(_, state) => (
            <LifecycleView
              state={state ?? model.state}
              actions={{
                api: model.api,
                refresh: () => void model.refresh(),
                openLink: this._openLink
              }}
            />
          )}
        </UseSignal>
      </div>
    );
  }

  private _model: LifecycleModel;
  private _openLink: (link: ILifecycleLink) => void;
}

export namespace LifecycleWidget {
  export interface IOptions {
    model: LifecycleModel;
    openLink: (link: ILifecycleLink) => void;
  }
}
