import * as React from 'react';

import { plural } from '../components';
import { formatStarted } from '../format';
import { IFeatureConsumer } from '../tokens';

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

export function Consumers(props: {
  consumers: readonly IFeatureConsumer[];
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
    <ul className="jp-mlops-consumers" aria-label="Consumers">
      {groups.map(group => (
        <li
          key={`${group.kind}:${group.id}`}
          data-testid="mlops-consumer"
          data-consumer={group.id}
        >
          <div className="jp-mlops-consumer-head">
            <span className="jp-mlops-consumer-kind">
              {CONSUMER_KINDS[group.kind] ?? group.kind}
            </span>
            <code className="jp-mlops-consumer-id">{group.id}</code>
          </div>
          <div className="jp-mlops-consumer-meta">
            {group.versions
              .sort((x, y) => x - y)
              .map(v => `v${v}`)
              .join(', ')}
            <span className="jp-mlops-meta-sep">·</span>
            {group.features.length} {plural(group.features.length, 'feature')}
            {group.firstUsed && (
              <>
                <span className="jp-mlops-meta-sep">·</span>
                <span title="First used">{formatStarted(group.firstUsed)}</span>
              </>
            )}
          </div>
          <div className="jp-mlops-consumer-features">
            {group.features.map(feature => (
              <code key={feature}>{feature}</code>
            ))}
          </div>
        </li>
      ))}
    </ul>
  );
}
