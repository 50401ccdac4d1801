import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createLocalEngine } from './local-engine.ts';
import { runWorkflowEngineContract } from './workflow-engine.contract.ts';

describe('local engine', () => {
  runWorkflowEngineContract({
    async create() {
      const database = await createTestDatabase();
      const workRoot = mkdtempSync(join(tmpdir(), 'archipel-local-contract-'));
      const engine = createLocalEngine({ db: database.db, workRoot, cores: 4, memoryMiB: 4096 });
      return {
        engine,
        async cleanup() {
          await engine.close();
          await database.cleanup();
          rmSync(workRoot, { recursive: true, force: true });
        },
      };
    },
  });
});
