import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createLocalEngine } from '../engine/local-engine.ts';
import { runWorkflowEngineContract } from '../engine/workflow-engine.contract.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createArgoClient } from './argo-client.ts';
import { createEngineController } from './argo-double-controller.ts';
import { createArgoEngine } from './argo-engine.ts';
import { startArgoServerDouble } from './argo-server-double.ts';

// The Argo adapter over the real client, against the Argo server double whose controller really runs
// what is submitted (on a local engine), so that both adapters pass one contract suite.
describe('Argo Workflows engine', () => {
  runWorkflowEngineContract({
    async create() {
      const database = await createTestDatabase();
      const workRoot = mkdtempSync(join(tmpdir(), 'archipel-argo-contract-'));
      const local = createLocalEngine({ db: database.db, workRoot, cores: 4, memoryMiB: 4096 });
      const controller = createEngineController(local);
      const server = await startArgoServerDouble({ token: 'sa-token', controller });
      const engine = createArgoEngine({ client: createArgoClient({ baseUrl: server.url, namespace: 'archipel', token: 'sa-token' }) });
      return {
        engine,
        async cleanup() {
          controller.close();
          await server.stop();
          await local.close();
          await database.cleanup();
          rmSync(workRoot, { recursive: true, force: true });
        },
      };
    },
  });
});
