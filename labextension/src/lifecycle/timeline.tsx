import * as React from 'react';

import { When } from '../components';
import { LinkOr } from './parts';
import {
  ACTIVITIES,
  activityCounts,
  byDay,
  filterTimeline,
  kindText
} from './events';
import { arrows } from './present';
import { ILifecycleLink, ITimelineEvent } from './types';

/**
 * The CI/CD/CT/CM events, newest first, each opening its item; badges
 * filter by activity.
 */
export function Timeline(props: {
  events: ITimelineEvent[];
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const [chosen, setChosen] = React.useState<Set<string>>(new Set());
  const shown = filterTimeline(props.events, chosen);
  const counts = activityCounts(props.events);
  const toggle = (activity: string) => {
    const next = new Set(chosen);
    if (!next.delete(activity)) {
      next.add(activity);
    }
    setChosen(next);
  };
  return (
    <section className="jp-mlops-lc-timeline" aria-label="Timeline">
      <div className="jp-mlops-lc-timeline-head">
        <h3>Timeline</h3>
        <div
          className="jp-mlops-lc-filters"
          role="group"
          aria-label="Activities"
        >
          {Object.entries(ACTIVITIES).map(([activity, caption]) => (
            <button
              type="button"
              key={activity}
              className="jp-mlops-lc-activity jp-mlops-lc-filter"
              data-activity={activity}
              aria-pressed={chosen.has(activity)}
              title={`Only ${caption}`}
              onClick={() => toggle(activity)}
            >
              {activity}
              <span className="jp-mlops-lc-filter-count">
                {counts[activity] ?? 0}
              </span>
            </button>
          ))}
        </div>
      </div>
      {shown.length === 0 ? (
        <p className="jp-mlops-placeholder">
          {props.events.length
            ? 'No events of these activities.'
            : 'No events yet.'}
        </p>
      ) : (
        byDay(shown).map(group => (
          <div key={group.day} className="jp-mlops-lc-day">
            <h4 className="jp-mlops-lc-day-title">{group.day}</h4>
            <ol className="jp-mlops-lc-events">
              {group.events.map((event, i) => (
                <Event
                  key={`${event.at}-${i}`}
                  event={event}
                  openLink={props.openLink}
                />
              ))}
            </ol>
          </div>
        ))
      )}
    </section>
  );
}

/**
 * One event: when, its activity, its kind, and what happened, linking to
 * its item.
 */
function Event(props: {
  event: ITimelineEvent;
  openLink: (link: ILifecycleLink) => void;
}): JSX.Element {
  const { event } = props;
  return (
    <li
      className="jp-mlops-lc-event"
      data-testid="mlops-timeline-row"
      data-activity={event.activity}
      data-kind={event.kind}
    >
      <span className="jp-mlops-lc-event-at">
        <When iso={event.at} />
      </span>
      <span
        className="jp-mlops-lc-activity"
        data-activity={event.activity}
        title={ACTIVITIES[event.activity] ?? event.activity}
      >
        {event.activity}
      </span>
      <span className="jp-mlops-lc-event-kind">{kindText(event.kind)}</span>
      <span className="jp-mlops-lc-event-text">
        <LinkOr
          link={event.link}
          openLink={props.openLink}
          testid="mlops-timeline-link"
        >
          {arrows(event.title)}
        </LinkOr>
        {event.detail && (
          <span className="jp-mlops-lc-event-detail" title={event.detail}>
            {event.detail}
          </span>
        )}
      </span>
    </li>
  );
}
