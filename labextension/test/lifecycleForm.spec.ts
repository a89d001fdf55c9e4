import { savedProblems } from '../src/lifecycle/api';
import {
  formFields,
  fromForm,
  numberField,
  parentField,
  placeProblems,
  splitProblem,
  toForm
} from '../src/lifecycle/form';
import { IProjectSpec } from '../src/lifecycle/types';
import { MlopsApiError } from '../src/request';
import { lifecycleFixture } from './lifecycleFixture';

describe('project form', () => {
  it('maps a definition to fields and back unchanged', () => {
    const project = lifecycleFixture().project;
    const { defined, file, ...spec } = project as IProjectSpec & {
      defined: true;
      file: string;
    };
    expect([defined, file]).toEqual([true, '/work/demo/mlops_lab.yaml']);
    const form = toForm(project);
    expect(form.objective).toEqual({
      metric: 'roc_auc',
      min: '0.75',
      max: '',
      slice: ''
    });
    expect(form.gate).toEqual({ kind: 'min_improvement', value: '0' });
    expect(form.owners).toEqual([
      { role: 'science', team: 'churn-science' },
      { role: 'engineering', team: 'ml-platform' }
    ]);
    expect(fromForm(form)).toEqual(spec);
  });

  it('writes what was edited, leaving out empty fields and sections', () => {
    const form = toForm(lifecycleFixture().project);
    form.objective.min = '0.8';
    form.guardrails.push({
      metric: 'precision',
      min: '',
      max: ' 0.9 ',
      slice: ''
    });
    form.guardrails.push({ metric: '', min: '', max: '', slice: '' });
    form.gate = { kind: 'non_inferiority', value: '0.01' };
    form.serving = { p99_ms: '', error_rate: '', window: '60s' };
    form.drift = '';
    form.owners[1].team = '  ';
    const spec = fromForm(form);
    expect(spec.objective).toEqual({ metric: 'roc_auc', min: 0.8 });
    expect(spec.guardrails).toEqual([
      { metric: 'recall', min: 0.5, slice: 'segment' },
      { metric: 'precision', max: 0.9 }
    ]);
    expect(spec.gate).toEqual({ non_inferiority: 0.01 });
    expect(spec.serving).toBeUndefined();
    expect(spec.drift).toBeUndefined();
    expect(spec.owners).toEqual({ science: 'churn-science' });
  });

  it('sends a number field that is not a number as typed, for the server to name', () => {
    expect(numberField(' 0.5 ')).toBe(0.5);
    expect(numberField('')).toBeUndefined();
    expect(numberField('lots')).toBe('lots');
    const form = toForm(lifecycleFixture().project);
    form.objective.min = 'high';
    expect(fromForm(form).objective).toEqual({
      metric: 'roc_auc',
      min: 'high'
    });
  });

  it('starts an undefined project with an objective to fill in', () => {
    const form = toForm({ defined: false, file: '/w/mlops_lab.yaml' });
    expect(form.task).toBe('classification');
    expect(form.objective.metric).toBe('roc_auc');
    const spec = fromForm({ ...form, problem: 'Predict churn' });
    expect(spec).toEqual({
      problem: 'Predict churn',
      task: 'classification',
      objective: { metric: 'roc_auc' },
      guardrails: [],
      gate: { min_improvement: 0 }
    });
  });
});

describe('problems next to fields', () => {
  it('splits a problem into its field and message', () => {
    expect(
      splitProblem('project.guardrails[0].min: must be a number, got "x"')
    ).toEqual({
      field: 'project.guardrails[0].min',
      message: 'must be a number, got "x"'
    });
    expect(splitProblem('something else')).toEqual({
      field: '',
      message: 'something else'
    });
  });

  it('walks up to the closest field shown', () => {
    expect(parentField('project.guardrails[0].min')).toBe(
      'project.guardrails[0]'
    );
    expect(parentField('project.guardrails[0]')).toBe('project.guardrails');
    expect(parentField('project')).toBe('');
  });

  it('places each problem at its field, the rest at the top', () => {
    const form = toForm(lifecycleFixture().project);
    const { byField, other } = placeProblems(
      [
        "project.objective.min: must be a number, got 'high'",
        'project.guardrails[0].min: must be between 0 and 1, got 2',
        'project.guardrails[3].min: must be a number',
        'project.gate: state one rule: min_improvement or non_inferiority',
        'project.serving.colour: unknown',
        'the file could not be written'
      ],
      formFields(form)
    );
    expect(byField).toEqual({
      'project.objective.min': ["must be a number, got 'high'"],
      'project.guardrails[0].min': ['must be between 0 and 1, got 2'],
      'project.guardrails': ['must be a number'],
      'project.gate': ['state one rule: min_improvement or non_inferiority'],
      'project.serving': ['unknown']
    });
    expect(other).toEqual(['the file could not be written']);
  });

  it('reads the problems of a refused save', () => {
    const problems = new MlopsApiError({
      status: 422,
      code: 'ProjectError',
      message: 'a; b',
      details: {
        problems: ['project.task: must be one of classification, regression']
      }
    });
    expect(savedProblems(problems)).toEqual([
      'project.task: must be one of classification, regression'
    ]);
    const fields = new MlopsApiError({
      status: 422,
      code: 'RequestBodyError',
      message: 'bad body',
      details: { fields: [{ field: 'project', reason: 'is required' }] }
    });
    expect(savedProblems(fields)).toEqual(['project: is required']);
    const plain = new MlopsApiError({ status: 422, code: 'X', message: 'no' });
    expect(savedProblems(plain)).toEqual(['no']);
    const joined = new MlopsApiError({
      status: 422,
      code: 'InvalidFieldError',
      message:
        "project: project.objective.min: must be a number, got 'x'; " +
        'project.guardrails[0]: needs a bound: min: VALUE; ' +
        'project.gate: state one rule: min_improvement or non_inferiority'
    });
    expect(savedProblems(joined)).toEqual([
      "project.objective.min: must be a number, got 'x'",
      'project.guardrails[0]: needs a bound: min: VALUE',
      'project.gate: state one rule: min_improvement or non_inferiority'
    ]);
  });
});

describe('an empty form', () => {
  it('leaves the problem out, for the server to say it is required', () => {
    const spec = fromForm(toForm(null));
    expect('problem' in spec).toBe(false);
    expect(spec.objective).toEqual({ metric: 'roc_auc' });
  });
});
