import { ReactWidget } from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';

/**
 * A React widget told when it becomes visible and when it stops being so:
 * the sidebar's views refresh (or start following live runs) only while shown.
 */
export abstract class ShownReactWidget extends ReactWidget {
  /**
   * Called when the widget is attached while visible, and each time it is shown.
   */
  protected abstract onShown(): void;

  /**
   * Called when the widget is hidden or detached.
   */
  protected onHidden(): void {
    // Nothing by default.
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this.onShown();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.onShown();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.onHidden();
  }

  protected onBeforeDetach(msg: Message): void {
    this.onHidden();
    super.onBeforeDetach(msg);
  }
}
