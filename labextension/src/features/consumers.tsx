import * as React from 'react';

import { plural } from '../components';
import { formatDateTime } from '../format';
import { IFeatureConsumer } from './types';

/**
 * One consumer of the view and what it used.
 */
interface IConsumerGroup {
  kind: string;
  id: string;
  versions: number[];
  features: string[];
  firstUsed: string | undefined;
}

/**
 * The server lists one row per feature used; group them by consumer.
 */
export function groupConsumers(
  rows: readonly IFeatureConsumer[]
): IConsumerGroup[] {
  const groups = new Map<string, IConsumerGroup>();
  for (const row of rows) {
    const key = `${row.kind}\u0000${row.id}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        kind: row.kind,
        id: row.id,
        versions: [],
        features: [],
        firstUsed: row.first_used
      };
      groups.set(key, group);
    }
    if (!group.versions.includes(row.version)) {
      group.versions.push(row.version);
    }
    if (!group.features.includes(row.feature)) {
      group.features.push(row.feature);
    }
    if (
      row.first_used &&
      (!group.firstUsed || row.first_used < group.firstUsed)
    ) {
      group.firstUsed = row.first_used;
    }
  }
  return [...groups.values()];
}

const CONSUMER_KINDS: Record<string, string> = {
  training_frame: 'Training frame',
  model: 'Model'
};

/**
 * Consumers that use the same features, once each, with that feature set.
 */
interface IFeatureSetGroup {
  features: string[];
  all: boolean;
  consumers: IConsumerGroup[];
}

/**
 * Group consumers by the set of features they use, so a feature list is
 * shown once for every consumer using it; the sets using every feature of
 * the view come first, then the larger sets.
 */
export function groupByFeatures(
  groups: readonly IConsumerGroup[],
  viewFeatures: readonly string[]
): IFeatureSetGroup[] {
  const sets = new Map<string, IFeatureSetGroup>();
  for (const group of groups) {
    const features = [...group.features].sort();
    const key = features.join('\u0000');
    let set = sets.get(key);
    if (!set) {
      const all =
        viewFeatures.length > 0 &&
        viewFeatures.every(f => features.includes(f));
      set = { features, all, consumers: [] };
      sets.set(key, set);
    }
    set.consumers.push(group);
  }
  return [...sets.values()].sort(
    (a, b) =>
      Number(b.all) - Number(a.all) || b.features.length - a.features.length
  );
}

export function Consumers(props: {
  consumers: readonly IFeatureConsumer[];
  features: readonly string[];
}): JSX.Element {
  const groups = groupConsumers(props.consumers);
  if (!groups.length) {
    return (
      <p className="jp-mlops-placeholder" data-testid="mlops-fv-no-consumers">
        Nothing uses this view yet. Training frames saved with{' '}
        <code>save_training_frame</code> show up here.
      </p>
    );
  }
  return (
    <div className="jp-mlops-consumer-sets">
      {groupByFeatures(groups, props.features).map(set => (
        <section
          key={set.features.join(',')}
          className="jp-mlops-consumer-set"
          data-testid="mlops-consumer-set"
          aria-label={`Consumers using ${set.features.length} features`}
        >
          <div
            className="jp-mlops-consumer-features"
            data-testid="mlops-consumer-features"
          >
            <span className="jp-mlops-meta">
              {set.all
                ? `All ${set.features.length} features`
                : `${set.features.length} ${plural(set.features.length, 'feature')}:`}
            </span>
            {!set.all &&
              set.features.map(feature => <code key={feature}>{feature}</code>)}
          </div>
          <ul className="jp-mlops-consumers" aria-label="Consumers">
            {set.consumers.map(group => (
              <ConsumerRow key={`${group.kind}:${group.id}`} group={group} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function ConsumerRow(props: { group: IConsumerGroup }): JSX.Element {
  const { group } = props;
  return (
    <li data-testid="mlops-consumer" data-consumer={group.id}>
      <div className="jp-mlops-consumer-head">
        <span className="jp-mlops-consumer-kind">
          {CONSUMER_KINDS[group.kind] ?? group.kind}
        </span>
        <code className="jp-mlops-consumer-id">{group.id}</code>
      </div>
      <div className="jp-mlops-consumer-meta">
        {[...group.versions]
          .sort((x, y) => x - y)
          .map(v => `v${v}`)
          .join(', ')}
        {group.firstUsed && (
          <>
            <span className="jp-mlops-meta-sep">·</span>
            <time dateTime={group.firstUsed} title="First used">
              {formatDateTime(group.firstUsed)}
            </time>
          </>
        )}
      </div>
    </li>
  );
}
