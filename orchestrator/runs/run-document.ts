import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError, isArchipelError, type InputIssue } from '../../core/index.ts';
import { loadCwlProcess } from '../cwl/load/load-process.ts';
import { parseYaml, YamlProblem } from '../cwl/load/parse-yaml.ts';
import type { Process, Workflow } from '../cwl/model.ts';
import { asWorkflow } from '../translate/translate-workflow.ts';
import { FILE_LOCATION_PREFIX } from './file-service.ts';

/** Largest CWL document a run accepts (the HTTP body limit usually refuses larger ones first). */
export const MAX_RUN_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** The field of the submission that holds the document, as errors name it. */
const FIELD = 'cwl';

export interface RunDocument {
  /** The document's text as stored (JSON text for a document given as an object). */
  text: string;
  /** Hex SHA-256 of `text`: the document's key in the object store. */
  sha256: string;
  /** The class of the submitted process. */
  processClass: Process['class'];
  /** What the engine runs: the workflow itself, or a one-step workflow around a tool. */
  workflow: Workflow;
}

/** References that would make the node read its own files or the network: a submitted document stands alone. */
function externalReferences(value: unknown, at: string, found: InputIssue[]): void {
  if (Array.isArray(value)) return value.forEach((v, i) => externalReferences(v, `${at}.${i}`, found));
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    const where = at ? `${at}.${key}` : key;
    if (key === '$import' || key === '$include' || key === '$mixin') found.push({ path: where, message: `${key} is not allowed in a submitted document: pack it into one document (cwltool --pack)` });
    else if (key === 'run' && typeof v === 'string' && !v.startsWith('#')) found.push({ path: where, message: `run: "${v}" names another file: pack the workflow into one document (cwltool --pack)` });
    else if (key === 'location' && typeof v === 'string' && !v.startsWith(FILE_LOCATION_PREFIX)) {
      found.push({ path: where, message: 'a File or Directory in the document must be an uploaded file (archipel:files/<id>, as `archipel submit` uploads it) or given by contents or listing: the node does not read its own files for a run' });
    }
    else externalReferences(v, where, found);
  }
}

/**
 * Reads a CWL document submitted for a run (YAML or JSON text, or a parsed object): one self-contained
 * document (no imports, no `run` of another file, no default files on the node's disk), validated as
 * `archipel run` validates a file; errors name the field `cwl` with the line.
 */
export async function readRunDocument(cwl: string | Record<string, unknown>, processId?: string): Promise<RunDocument> {
  const text = typeof cwl === 'string' ? cwl : JSON.stringify(cwl);
  if (Buffer.byteLength(text) > MAX_RUN_DOCUMENT_BYTES) {
    throw new InvalidInputError(`${FIELD}: the document is larger than ${MAX_RUN_DOCUMENT_BYTES} bytes`, [{ path: FIELD, message: 'too large' }]);
  }
  let parsed: unknown;
  try {
    parsed = typeof cwl === 'string' ? parseYaml(cwl) : cwl;
  } catch (error) {
    if (!(error instanceof YamlProblem)) throw error;
    throw new InvalidInputError(`${error.at(FIELD)}: ${error.summary}`, [error.issue(FIELD)], { cause: error });
  }
  const external: InputIssue[] = [];
  externalReferences(parsed, '', external);
  if (external.length) throw new InvalidInputError(`${FIELD}: ${external.map((i) => `${i.path}: ${i.message}`).join('; ')}`, external.map((i) => ({ ...i, path: `${FIELD}.${i.path}` })));

  const dir = await mkdtemp(path.join(tmpdir(), 'archipel-document-'));
  const file = path.join(dir, FIELD);
  try {
    await writeFile(file, text);
    let process: Process;
    try {
      process = await loadCwlProcess(processId ? `${file}#${processId}` : file, dir);
    } catch (error) {
      // The temporary file stands for the request field in what the caller reads.
      if (error instanceof InvalidInputError) {
        const rename = (s: string) => s.split(file).join(FIELD);
        throw new InvalidInputError(rename(error.message), error.issues.map((i) => ({ ...i, ...(i.file ? { file: FIELD } : {}) })), { cause: error });
      }
      if (isArchipelError(error)) throw error;
      throw new InvalidInputError(`${FIELD}: ${(error as Error).message.split(file).join(FIELD)}`, [{ path: FIELD, message: 'cannot be loaded' }], { cause: error });
    }
    return {
      text,
      sha256: createHash('sha256').update(text).digest('hex'),
      processClass: process.class,
      // The step is named after the tool's own id when it has one, else `tool`.
      workflow: asWorkflow(process, process.id === FIELD ? 'tool' : process.id.replace(/[^A-Za-z0-9_-]/g, '_')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
