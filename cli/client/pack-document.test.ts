import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/index.ts';
import { aliasBomb } from '../../tests/support/alias-bomb.ts';
import { packDocument } from './pack-document.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('packDocument', () => {
  it('refuses a document that is not YAML, naming its file, line and column, or that is an alias bomb', async () => {
    const broken = path.join(dir, 'broken.cwl');
    writeFileSync(broken, 'cwlVersion: v1.2\ninputs:\n  x: string\n   y: int\n');
    await expect(packDocument(broken)).rejects.toThrow(new RegExp(`^${broken}:4:\\d+: not valid YAML`));
    const bomb = path.join(dir, 'bomb.cwl');
    writeFileSync(bomb, `cwlVersion: v1.2\nclass: Workflow\nsteps:\n  one: {run: other.cwl}\n${aliasBomb()}`);
    const error = await packDocument(bomb).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(new RegExp(`^${bomb}: the document expands to more than`));
  });
});
