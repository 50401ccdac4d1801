import { InvalidInputError } from '../../core/index.ts';

export { parseSource, sourceStep, type SourceRef } from '../cwl/source-ref.ts';

/**
 * The value of a sink fed by `sources` (CWL "WorkflowStepInput" / "WorkflowOutputParameter"): one
 * source gives its value; several (or any with an explicit `linkMerge`) are merged (merge_nested by
 * default: a list of the values; merge_flattened: lists spliced in); then `pickValue` chooses among them.
 */
export function linkValues(
  values: unknown[],
  options: { linkMerge?: string; pickValue?: string; sink: string },
): unknown {
  let value: unknown;
  // A single source, even written as a one-element list, is its value (as the reference runner does).
  if (values.length === 1 && !options.linkMerge) value = values[0];
  else if ((options.linkMerge ?? 'merge_nested') === 'merge_flattened') value = values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  else value = values;
  if (!options.pickValue) return value;
  const list = Array.isArray(value) ? value : [value];
  const present = list.filter((v) => v !== null && v !== undefined);
  switch (options.pickValue) {
    case 'first_non_null':
      if (!present.length) throw new InvalidInputError(`${options.sink}: pickValue first_non_null found only null values`);
      return present[0];
    case 'the_only_non_null':
      if (present.length !== 1) {
        throw new InvalidInputError(`${options.sink}: pickValue the_only_non_null found ${present.length} non-null values`);
      }
      return present[0];
    case 'all_non_null':
      return present;
    default:
      throw new InvalidInputError(`${options.sink}: unknown pickValue "${options.pickValue}"`);
  }
}
