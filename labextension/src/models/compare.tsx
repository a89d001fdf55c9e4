import * as React from 'react';

import { OnlyDifferences } from '../components';
import { byMetric, formatDateTime, formatMetric, formatValue } from '../format';
import { LongValue, WideTable } from '../widetable';
import { IComparedRow, IModelComparison } from './types';

/**
 * Model versions side by side: metrics on the dataset versions all of them
 * were evaluated on (the best marked by the metric's direction), then
 * parameters, signature and lineage with the rows that differ marked.
 *
 * Takes its data as props (no model, no fetch), so it can live in the
 * sidebar or in a main-area tab.
 */
export function VersionComparison(props: {
  comparison: IModelComparison;
  /**
   * Show only the rows where the versions differ.
   */
  onlyDifferences?: boolean;
}): JSX.Element {
  const { comparison } = props;
  const [only, setOnly] = React.useState(props.onlyDifferences ?? false);
  const versions = comparison.versions;
  const heads = versions.map(v => (
    <th
      key={v.version}
      scope="col"
      title={`${formatDateTime(v.created_at)} · ${v.flavor}`}
    >
      v{v.version}
      {v.aliases.length > 0 && (
        <span className="jp-mlops-compare-aliases">
          {' '}
          {v.aliases.join(', ')}
        </span>
      )}
    </th>
  ));
  return (
    <div
      className="jp-mlops-compare"
      data-testid="mlops-model-compare"
      data-versions={versions.map(v => v.version).join(',')}
    >
      <OnlyDifferences checked={only} onChange={setOnly} />
      <h5 className="jp-mlops-compare-title">Metrics</h5>
      {comparison.datasets.length === 0 ? (
        <p
          className="jp-mlops-placeholder"
          data-testid="mlops-compare-no-dataset"
        >
          No dataset version was evaluated with all of{' '}
          {versions.map(v => `v${v.version}`).join(', ')}: metrics on different
          data do not compare. Evaluate them on the same dataset (
          <code>mlops_lab.evaluate(...)</code> or <code>compare(...)</code>).
        </p>
      ) : (
        comparison.datasets.map(dataset => {
          const metrics = [...dataset.metrics].sort((a, b) =>
            byMetric(a.name, b.name)
          );
          return (
            <WideTable
              key={`${dataset.dataset}@${dataset.dataset_version}`}
              columns={versions.length + 1}
              label={`Metrics on ${dataset.dataset}@${dataset.dataset_version}`}
              testid="mlops-compare-metrics"
            >
              <caption>
                on {dataset.dataset}@{dataset.dataset_version}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Metric</th>
                  {heads}
                </tr>
              </thead>
              <tbody>
                {metrics.map(metric => (
                  <tr
                    key={metric.name}
                    data-testid="mlops-compare-metric"
                    data-metric={metric.name}
                  >
                    <th
                      scope="row"
                      title={`${metric.name}: ${metric.higher_is_better ? 'higher' : 'lower'} is better`}
                    >
                      {metric.name}
                    </th>
                    {metric.values.map((value, i) => (
                      <td
                        key={i}
                        className="jp-mlops-num"
                        data-best={metric.best === i}
                        title={metric.best === i ? 'Best' : undefined}
                      >
                        {formatMetric(value)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </WideTable>
          );
        })
      )}
      <ComparedTable
        title="Parameters"
        rows={comparison.parameters}
        heads={heads}
        only={only}
        testid="mlops-compare-parameters"
        empty="No parameters recorded."
      />
      <ComparedTable
        title="Signature"
        rows={comparison.signature}
        heads={heads}
        only={only}
        testid="mlops-compare-signature"
        empty="No signature recorded."
      />
      <ComparedTable
        title="Lineage"
        rows={comparison.lineage}
        heads={heads}
        only={only}
        testid="mlops-compare-lineage"
        empty=""
      />
    </div>
  );
}

/**
 * A value in a comparison: `–` when the version has none.
 */
function shown(value: unknown): string {
  if (value === null || value === undefined) {
    return '–';
  }
  return typeof value === 'string' ? value : formatValue(value);
}

function ComparedTable(props: {
  title: string;
  rows: IComparedRow[];
  heads: JSX.Element[];
  only: boolean;
  testid: string;
  empty: string;
}): JSX.Element {
  const { rows, heads } = props;
  const differing = rows.filter(r => r.differs).length;
  const visible = props.only ? rows.filter(r => r.differs) : rows;
  return (
    <>
      <h5 className="jp-mlops-compare-title">
        {props.title}
        <span className="jp-mlops-meta" data-testid={`${props.testid}-count`}>
          {' '}
          {differing} of {rows.length} differ
        </span>
      </h5>
      {rows.length === 0 ? (
        props.empty && <p className="jp-mlops-placeholder">{props.empty}</p>
      ) : (
        <WideTable
          columns={heads.length + 1}
          label={props.title}
          testid={props.testid}
          column="8em"
        >
          <thead>
            <tr>
              <th scope="col">Name</th>
              {heads}
            </tr>
          </thead>
          <tbody>
            {visible.map(row => (
              <tr
                key={row.name}
                data-testid="mlops-compare-row"
                data-name={row.name}
                data-differs={row.differs}
              >
                <th scope="row" title={row.name}>
                  {row.name}
                </th>
                {row.values.map((value, i) => (
                  <td key={i}>
                    <LongValue text={shown(value)} limit={24} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </WideTable>
      )}
    </>
  );
}
