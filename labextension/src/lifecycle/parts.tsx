import * as React from 'react';

import { linkCommand, linkText } from './links';
import { HEALTH_TEXT } from './present';
import { Health, ILifecycleLink } from './types';

/**
 * `children` as a button opening the link's item, or as text when nothing
 * opens it.
 */
export function LinkOr(props: {
  link?: ILifecycleLink | null;
  openLink: (link: ILifecycleLink) => void;
  children: React.ReactNode;
  testid?: string;
}): JSX.Element {
  const { link } = props;
  if (!link || !linkCommand(link)) {
    return (
      <span
        className="jp-mlops-lc-label"
        title={link ? linkText(link) : undefined}
      >
        {props.children}
      </span>
    );
  }
  return (
    <button
      type="button"
      className="jp-mlops-lc-link"
      data-testid={props.testid ?? 'mlops-lifecycle-link'}
      data-kind={link.kind}
      data-id={link.id}
      title={`Open ${linkText(link)}`}
      onClick={() => props.openLink(link)}
    >
      {props.children}
    </button>
  );
}

export function HealthDot(props: { status: Health }): JSX.Element {
  return (
    <span
      className="jp-mlops-lc-dot"
      data-status={props.status}
      aria-label={HEALTH_TEXT[props.status]}
    />
  );
}
