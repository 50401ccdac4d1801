import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { isFsObject, withPathFields, type FsObject } from './file-objects.ts';

/**
 * Gives every input File and Directory a path that carries its own basename, with its secondary files
 * beside it under theirs (a job may rename files, and secondary files may live elsewhere): those that
 * are not laid out so already are symlinked into a staging folder of their own.
 */
export function stageInputs(inputs: Record<string, unknown>, stagingDir: string) {
  let counter = 0;
  const inPlace = (entry: FsObject, dir: string) => path.basename(String(entry.path)) === entry.basename && path.dirname(String(entry.path)) === dir;
  const stage = (obj: FsObject) => {
    if (typeof obj.path !== 'string') return;
    // Already laid out as the tool will see it: used where it is, like the reference runner does.
    const secondaries = (Array.isArray(obj.secondaryFiles) ? obj.secondaryFiles : []).filter(isFsObject);
    if (inPlace(obj, path.dirname(obj.path)) && secondaries.every((sf) => inPlace(sf, path.dirname(String(obj.path))))) return;
    const dir = path.join(stagingDir, String(counter++));
    mkdirSync(dir, { recursive: true });
    const link = (entry: FsObject) => {
      const target = path.join(dir, String(entry.basename));
      try {
        symlinkSync(String(entry.path), target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      Object.assign(entry, withPathFields(entry, target), { basename: entry.basename });
    };
    link(obj);
    if (Array.isArray(obj.secondaryFiles)) for (const sf of obj.secondaryFiles) if (isFsObject(sf)) link(sf);
  };
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isFsObject(value)) stage(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(inputs);
}
