import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { ShownReactWidget } from './shown';

/**
 * A domain model of the sidebar (state plus a change signal).
 */
export interface IStateModel<S> {
  readonly state: S;
  readonly stateChanged: ISignal<unknown, S>;
  dispose(): void;
}

/**
 * The content of a main-area tab that shows one item through its own
 * instance of a view's domain model (which loads the item by key from the
 * REST API, so the tab works after a page reload, the sidebar unopened),
 * rendering the view's existing detail component, laid out wide.
 */
export class ModelTab<S> extends ShownReactWidget {
  constructor(options: ModelTab.IOptions<S>) {
    super();
    this._options = options;
    this.addClass('jp-mlops-tab');
    this.node.dataset.testid = options.testid;
    options.model.stateChanged.connect(this._changed, this);
    this._retitle();
  }

  get model(): IStateModel<S> {
    return this._options.model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.dispose();
    super.dispose();
  }

  protected onShown(): void {
    this._options.onShown?.();
  }

  protected onHidden(): void {
    this._options.onHidden?.();
  }

  protected render(): JSX.Element {
    return (
      <div className="jp-mlops-tab-body">
        {this._options.render(this._options.model.state)}
      </div>
    );
  }

  private _changed(): void {
    this._retitle();
    this.update();
  }

  private _retitle(): void {
    const { label, caption } = this._options.title(this._options.model.state);
    this.title.label = label;
    this.title.caption = caption ?? label;
  }

  private _options: ModelTab.IOptions<S>;
}

export namespace ModelTab {
  export interface IOptions<S> {
    /**
     * The tab's own model (disposed with the tab).
     */
    model: IStateModel<S>;
    render: (state: S) => React.ReactNode;
    title: (state: S) => { label: string; caption?: string };
    testid: string;
    /**
     * Called when the tab is shown (e.g. to start polling) and hidden.
     */
    onShown?: () => void;
    onHidden?: () => void;
  }
}
