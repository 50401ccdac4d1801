import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { InternalError } from '../../core/index.ts';

/**
 * Validation of Argo `Workflow` manifests against Argo's own JSON schema (`api/jsonschema/schema.json`,
 * kept beside the repository in `../shared/argo/`). This is the one piece of production code that reads
 * `../shared` at run time, and only when a validation is asked for.
 */

export type ArgoWorkflowValidation = { valid: true } | { valid: false; errors: string[] };
export type ArgoWorkflowValidator = (workflow: unknown) => ArgoWorkflowValidation;

export const DEFAULT_ARGO_SCHEMA_PATH = fileURLToPath(new URL('../../../shared/argo/schema.json', import.meta.url));
const WORKFLOW_REF = '#/definitions/io.argoproj.workflow.v1alpha1.Workflow';
/** Kubernetes annotations that Ajv's strict mode would otherwise reject as unknown keywords. */
const KUBERNETES_KEYWORDS = [
  'x-kubernetes-group-version-kind',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-unions',
];
const MAX_ERRORS = 20;

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = formatsModule.default;

/** Compiles a validator from a schema file. Compiling takes about a second: keep the result. */
export function createArgoWorkflowValidator(options: { schemaPath?: string } = {}): ArgoWorkflowValidator {
  const schemaPath = options.schemaPath ?? DEFAULT_ARGO_SCHEMA_PATH;
  const validate = compile(readSchema(schemaPath));
  return (workflow) => (validate(workflow) ? { valid: true } : { valid: false, errors: describe(validate.errors ?? []) });
}

let defaultValidator: ArgoWorkflowValidator | undefined;

/** Validates against the default schema, compiled on first use (the schema is 600 kB). */
export function validateArgoWorkflow(workflow: unknown): ArgoWorkflowValidation {
  defaultValidator ??= createArgoWorkflowValidator();
  return defaultValidator(workflow);
}

function readSchema(schemaPath: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(schemaPath, 'utf8');
  } catch (error) {
    throw new InternalError(
      `Argo's Workflow JSON schema is missing at ${schemaPath}: it comes from api/jsonschema/schema.json of argo-workflows ` +
        `and is expected in ../shared/argo/ beside the repository`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new InternalError(`Argo's Workflow JSON schema at ${schemaPath} is not valid JSON`, { cause: error });
  }
}

function compile(schema: Record<string, unknown>): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addVocabulary(KUBERNETES_KEYWORDS);
  addFormats(ajv);
  // Kubernetes' unsigned 64-bit integers; ajv-formats knows int32 and int64 only.
  ajv.addFormat('uint64', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addSchema(schema);
  const id = typeof schema.$id === 'string' ? schema.$id : '';
  const validate = ajv.getSchema(`${id}${WORKFLOW_REF}`);
  if (!validate) throw new InternalError(`Argo's JSON schema has no ${WORKFLOW_REF}`);
  return validate;
}

/** `/spec/templates/0/dag/tasks/0 must have required property 'name'`, without duplicates. */
function describe(errors: ErrorObject[]): string[] {
  const lines = [...new Set(errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra(e)}`))];
  return lines.length > MAX_ERRORS ? [...lines.slice(0, MAX_ERRORS), `... and ${lines.length - MAX_ERRORS} more`] : lines;
}

function extra(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'const') return ` (${JSON.stringify(params.allowedValue)})`;
  if (error.keyword === 'additionalProperties') return ` (${String(params.additionalProperty)})`;
  return '';
}
