/**
 * The timeline's pure parts: the activities' badges, the kinds for
 * reading, the filter, the counts and the days.
 */
/**
 * The continuous activities, for the timeline's badges.
 */
export const ACTIVITIES: Record<string, string> = {
  CI: 'Continuous integration: a pipeline or notebook run, checked',
  CD: 'Continuous delivery: a promotion or rollout',
  CT: 'Continuous training: a retrain started by a trigger',
  CM: 'Continuous monitoring: drift, SLO and alerts'
};

const KIND_TEXT: Record<string, string> = {
  run: 'Run',
  promotion: 'Promotion',
  deployment: 'Deployment',
  rollout: 'Rollout',
  rollout_decision: 'Rollout step',
  alert_opened: 'Alert opened',
  alert_closed: 'Alert closed',
  gate: 'Gate',
  drift: 'Drift check'
};

/**
 * An event's kind for reading: `alert_opened` as `Alert opened`.
 */
export function kindText(kind: string): string {
  return KIND_TEXT[kind] ?? kind.replace(/_/g, ' ');
}

/**
 * The events of the chosen activities (all when none is chosen).
 */
export function filterTimeline<T extends { activity: string }>(
  events: T[],
  chosen: ReadonlySet<string>
): T[] {
  return chosen.size ? events.filter(e => chosen.has(e.activity)) : events;
}

/**
 * How many events of each activity (for the filter badges).
 */
export function activityCounts(
  events: { activity: string }[]
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) {
    counts[event.activity] = (counts[event.activity] ?? 0) + 1;
  }
  return counts;
}

/**
 * Events grouped by the day they happened on (the browser's time zone),
 * in their order: `Today`, `Yesterday`, then e.g. `Mon, Nov 30`.
 */
export function byDay<T extends { at: string }>(
  events: T[],
  now: Date = new Date()
): { day: string; events: T[] }[] {
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  const groups: { day: string; events: T[] }[] = [];
  for (const event of events) {
    const date = new Date(event.at);
    let day: string;
    if (Number.isNaN(date.getTime())) {
      day = 'Unknown';
    } else if (date.toDateString() === now.toDateString()) {
      day = 'Today';
    } else if (date.toDateString() === yesterday.toDateString()) {
      day = 'Yesterday';
    } else {
      day = date.toLocaleDateString(undefined, {
        weekday: 'short',
        month: 'short',
        day: 'numeric',
        year: date.getFullYear() === now.getFullYear() ? undefined : 'numeric'
      });
    }
    const last = groups[groups.length - 1];
    if (last && last.day === day) {
      last.events.push(event);
    } else {
      groups.push({ day, events: [event] });
    }
  }
  return groups;
}
