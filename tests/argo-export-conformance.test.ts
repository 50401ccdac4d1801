import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateArgoWorkflow } from '../orchestrator/argo/workflow-schema.ts';
import { loadCwlProcess } from '../orchestrator/cwl/load/load-process.ts';
import { translateWorkflow } from '../orchestrator/translate/translate-workflow.ts';
import { REPO_ROOT } from './support/archipel-process.ts';

/**
 * Every workflow of the CWL conformance suite that loads must translate to an Argo Workflow that
 * validates against Argo's own JSON schema. The suite lives in ../shared beside the repository (CI has
 * it); without it there is nothing to translate, and the test says so rather than passing silently.
 */
const suite = path.resolve(REPO_ROOT, '../shared/conformance');
const hasSuite = existsSync(path.join(suite, 'tests.json'));

describe.skipIf(!hasSuite)('Argo export of the CWL conformance workflows (needs ../shared/conformance)', () => {
  it('translates every loadable conformance workflow into a schema-valid Argo Workflow', { timeout: 120_000 }, async () => {
    const tests = JSON.parse(readFileSync(path.join(suite, 'tests.json'), 'utf8')) as { id: string; tool: string; tags?: string[]; should_fail?: boolean }[];
    const tools = [...new Set(tests.filter((t) => t.tags?.includes('workflow')).map((t) => t.tool))];
    const exported: string[] = [];
    const invalid: string[] = [];
    const unloadable: string[] = [];
    for (const tool of tools) {
      let process;
      try {
        process = await loadCwlProcess(path.join(suite, 'cwl-v1.2', tool));
      } catch {
        unloadable.push(tool);
        continue;
      }
      if (process.class !== 'Workflow') continue;
      const manifest = translateWorkflow(process, { runId: 'conformance' });
      const result = validateArgoWorkflow(manifest);
      if (result.valid) exported.push(tool);
      else invalid.push(`${tool}: ${result.errors.slice(0, 3).join('; ')}`);
    }
    expect(invalid).toEqual([]);
    // Most of the suite's workflow documents load; those that do not are meant to fail validation.
    expect(exported.length).toBeGreaterThan(tools.length * 0.8);
  });
});
