/**
 * Archipel's normalised CWL process model: what the loader produces from any CWL v1.0-v1.2 document and
 * what the runtime and the Argo translation consume. Shorthands are expanded (`File?`, `int[]`, map forms
 * of inputs, outputs, fields and requirements); ids are short names; type references are resolved.
 */
export type CwlPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'string' | 'File' | 'Directory' | 'Any';

export interface ArrayType {
  type: 'array';
  items: CwlType;
  inputBinding?: Binding;
}
export interface RecordField {
  name: string;
  type: CwlType;
  inputBinding?: Binding;
  outputBinding?: OutputBinding;
  secondaryFiles?: SecondaryFileSpec[];
  format?: unknown;
  loadContents?: boolean;
  loadListing?: LoadListing;
  doc?: unknown;
}
export interface RecordType {
  type: 'record';
  name?: string;
  fields: RecordField[];
  inputBinding?: Binding;
}
export interface EnumType {
  type: 'enum';
  name?: string;
  symbols: string[];
  inputBinding?: Binding;
}
export type CwlType = CwlPrimitive | ArrayType | RecordType | EnumType | CwlType[];

export interface Binding {
  position?: number | string;
  prefix?: string;
  separate?: boolean;
  itemSeparator?: string;
  valueFrom?: string;
  shellQuote?: boolean;
  loadContents?: boolean;
}

export interface OutputBinding {
  glob?: unknown;
  loadContents?: boolean;
  loadListing?: LoadListing;
  outputEval?: string;
}

export interface SecondaryFileSpec {
  pattern: string;
  required?: boolean | string;
}

export type LoadListing = 'no_listing' | 'shallow_listing' | 'deep_listing';

export interface Parameter {
  id: string;
  type: CwlType;
  default?: unknown;
  inputBinding?: Binding;
  outputBinding?: OutputBinding;
  secondaryFiles?: SecondaryFileSpec[];
  format?: unknown;
  loadContents?: boolean;
  loadListing?: LoadListing;
  streamable?: boolean;
  /** Workflow inputs and outputs only. */
  outputSource?: string[];
  linkMerge?: string;
  pickValue?: string;
}

export interface Requirement {
  class: string;
  [key: string]: unknown;
}

export interface ProcessBase {
  id: string;
  cwlVersion: string;
  label?: string;
  doc?: unknown;
  inputs: Parameter[];
  outputs: Parameter[];
  requirements: Requirement[];
  hints: Requirement[];
  /** Namespace prefixes (`edam` → IRI) for formats. */
  namespaces: Record<string, string>;
  /** `$schemas` ontologies the document names (format checks defer to them). */
  schemas: string[];
  /** The file the process came from (for relative paths and error messages). */
  sourceFile: string;
}

export interface CommandLineTool extends ProcessBase {
  class: 'CommandLineTool';
  baseCommand: string[];
  arguments: (string | (Binding & { valueFrom?: string }))[];
  stdin?: string;
  stdout?: string;
  stderr?: string;
  successCodes: number[];
  temporaryFailCodes: number[];
  permanentFailCodes: number[];
}

export interface ExpressionTool extends ProcessBase {
  class: 'ExpressionTool';
  expression: string;
}

export interface WorkflowStepInput {
  id: string;
  source: string[];
  default?: unknown;
  valueFrom?: string;
  linkMerge?: string;
  pickValue?: string;
  loadContents?: boolean;
  loadListing?: LoadListing;
}

export interface WorkflowStep {
  id: string;
  in: WorkflowStepInput[];
  out: string[];
  run: Process;
  requirements: Requirement[];
  hints: Requirement[];
  scatter: string[];
  scatterMethod?: string;
  when?: string;
}

export interface Workflow extends ProcessBase {
  class: 'Workflow';
  steps: WorkflowStep[];
}

export type Process = CommandLineTool | ExpressionTool | Workflow;

/** The requirement (and hint) classes of CWL v1.2. */
export const CWL_REQUIREMENT_CLASSES: ReadonlySet<string> = new Set([
  'InlineJavascriptRequirement',
  'SchemaDefRequirement',
  'DockerRequirement',
  'SoftwareRequirement',
  'InitialWorkDirRequirement',
  'EnvVarRequirement',
  'ShellCommandRequirement',
  'ResourceRequirement',
  'WorkReuse',
  'NetworkAccess',
  'InplaceUpdateRequirement',
  'ToolTimeLimit',
  'LoadListingRequirement',
  'SubworkflowFeatureRequirement',
  'ScatterFeatureRequirement',
  'MultipleInputFeatureRequirement',
  'StepInputExpressionRequirement',
]);
