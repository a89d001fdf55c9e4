import { launchIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

/**
 * The "Open in a tab" action of a sidebar detail: the detail, laid out
 * wide, in a main-area tab of its own.
 */
export function OpenInTab(props: {
  onClick: () => void;
  testid: string;
  tooltip?: string;
  /**
   * Only the icon (and the tooltip), for a crowded toolbar.
   */
  compact?: boolean;
}): JSX.Element {
  return (
    <ToolbarButtonComponent
      className="jp-mlops-open-tab"
      icon={launchIcon}
      label={props.compact ? undefined : 'Open in a tab'}
      tooltip={props.tooltip ?? 'Open in a tab: this, laid out wide'}
      dataset={{ testid: props.testid }}
      onClick={props.onClick}
    />
  );
}
