import { IPipeline } from './types';
import { JSONValue } from '../tokens';

/**
 * How a parameter is edited, chosen from its default value.
 */
export type ParameterKind = 'bool' | 'number' | 'text' | 'json';

/**
 * A parameter of a pipeline, with every stage whose notebook defines it.
 *
 * Overrides are sent by name and apply to every stage that defines the
 * parameter, so a parameter shared by stages is edited once.
 */
export interface IParameterField {
  name: string;
  kind: ParameterKind;
  defaultValue: JSONValue;
  stages: string[];
}

/**
 * The outcome of reading one input: a value, or why it is not one.
 */
export type ParsedValue =
  { ok: true; value: JSONValue } | { ok: false; message: string };

/**
 * The editor a default value calls for: strings and numbers get their own
 * inputs, booleans a checkbox, anything else (lists, dicts, None) JSON.
 */
export function parameterKind(value: JSONValue): ParameterKind {
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return 'number';
    case 'string':
      return 'text';
    default:
      return 'json';
  }
}

/**
 * The parameters of a pipeline by stage, in stage order; a parameter that
 * several stages define appears once, under its first stage.
 */
export function parameterFields(
  pipeline: IPipeline
): { stage: string; fields: IParameterField[] }[] {
  const byName = new Map<string, IParameterField>();
  const groups: { stage: string; fields: IParameterField[] }[] = [];
  for (const stage of pipeline.stages) {
    const fields: IParameterField[] = [];
    for (const [name, value] of Object.entries(stage.parameters)) {
      const known = byName.get(name);
      if (known) {
        known.stages.push(stage.name);
        continue;
      }
      const field: IParameterField = {
        name,
        kind: parameterKind(value),
        defaultValue: value,
        stages: [stage.name]
      };
      byName.set(name, field);
      fields.push(field);
    }
    groups.push({ stage: stage.name, fields });
  }
  return groups;
}

/**
 * The text an input starts with for a default value.
 */
export function initialText(field: IParameterField): string {
  const value = field.defaultValue;
  if (field.kind === 'text') {
    return value as string;
  }
  if (field.kind === 'json') {
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * Read what was typed into an input of the given kind.
 */
export function parseInput(kind: ParameterKind, text: string): ParsedValue {
  switch (kind) {
    case 'bool':
      return { ok: true, value: text === 'true' };
    case 'text':
      return { ok: true, value: text };
    case 'number': {
      const trimmed = text.trim();
      const value = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(value)) {
        return { ok: false, message: 'Enter a number' };
      }
      return { ok: true, value };
    }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) as JSONValue };
      } catch {
        return { ok: false, message: 'Enter JSON, e.g. [1, 2] or {"a": 1}' };
      }
  }
}

/**
 * The overrides to send: every parameter whose input differs from its
 * default, or the first input that cannot be read.
 */
export function collectOverrides(
  fields: IParameterField[],
  texts: Record<string, string>
):
  | { ok: true; overrides: Record<string, JSONValue> }
  | { ok: false; name: string; message: string } {
  const overrides: Record<string, JSONValue> = {};
  for (const field of fields) {
    const text = texts[field.name];
    if (text === undefined) {
      continue;
    }
    const parsed = parseInput(field.kind, text);
    if (!parsed.ok) {
      return { ok: false, name: field.name, message: parsed.message };
    }
    if (JSON.stringify(parsed.value) !== JSON.stringify(field.defaultValue)) {
      overrides[field.name] = parsed.value;
    }
  }
  return { ok: true, overrides };
}
