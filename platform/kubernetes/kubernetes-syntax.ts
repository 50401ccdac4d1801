// Names and label selectors as the Kubernetes API reads them, checked before anything is sent, so that a
// typo in the configuration is reported at start rather than by the API server at the first request.
const NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const QUALIFIED_NAME = `(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?${NAME}`;
const VALUE = `(?:${NAME})?`;
const REQUIREMENT = new RegExp(
  `^(?:!\\s*${QUALIFIED_NAME}|${QUALIFIED_NAME}(?:\\s*(?:==|=|!=)\\s*${VALUE}|\\s+(?:in|notin)\\s*\\(\\s*${VALUE}(?:\\s*,\\s*${VALUE})*\\s*\\))?)$`,
);
const WHOLE_QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME}$`);
const MAX_SELECTOR_LENGTH = 4096;

/** `[prefix/]name`, as label keys and resource names are written (`zone`, `nvidia.com/gpu`). */
export function isQualifiedName(text: string): boolean {
  return WHOLE_QUALIFIED_NAME.test(text);
}

/**
 * What is wrong with a label selector, or undefined when it is one: `key`, `!key`, `key=value`,
 * `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, joined by commas.
 */
export function labelSelectorProblem(selector: string): string | undefined {
  if (selector.trim() === '') return 'must not be empty';
  if (selector.length > MAX_SELECTOR_LENGTH) return `must be at most ${MAX_SELECTOR_LENGTH} characters`;
  // Commas separate requirements, except inside the parentheses of `in (...)`.
  const bad = selector.split(/,(?![^(]*\))/).map((part) => part.trim()).find((part) => !REQUIREMENT.test(part));
  return bad === undefined
    ? undefined
    : `${JSON.stringify(bad)} is not a label selector requirement (key, !key, key=value, key!=value, key in (a,b), key notin (a,b))`;
}
