import { InvalidInputError } from '../../core/index.ts';
import { isFsObject } from '../cwl/runtime/file-objects.ts';
import { objectLocation } from '../steps/store-files.ts';
import { uploadedFileId, type FileService, type RunCaller } from './file-service.ts';

/**
 * Points the File objects of a submitted job at the uploads they name (`archipel:files/<id>`, which the
 * caller must be allowed to use) in the node's object store. Every other location is refused: the node
 * does not read its own disk or the network for a user's job. Literals (`contents`, `listing`) stay.
 */
export async function resolveJobFiles(caller: RunCaller, job: Record<string, unknown>, files: Pick<FileService, 'get'>, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const visit = async (value: unknown, at: string): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map((v, i) => visit(v, `${at}.${i}`)));
    if (isFsObject(value)) {
      const out: Record<string, unknown> = { ...value };
      const location = value.location ?? value.path;
      if (location !== undefined) {
        const id = uploadedFileId(location);
        if (id === undefined || value.class !== 'File') {
          throw new InvalidInputError(
            `${at}: location ${JSON.stringify(location)} is not a file uploaded to this node (POST /api/v1/files answers its "archipel:files/<id>" location); a Directory is given by its listing`,
            [{ path: at, message: 'not an uploaded file' }],
          );
        }
        let file;
        try {
          file = await files.get(caller, id, { signal });
        } catch (error) {
          throw new InvalidInputError(`${at}: no uploaded file "${id}" that you may use`, [{ path: at, message: 'unknown file' }], { cause: error });
        }
        out.location = objectLocation(file.objectKey);
        delete out.path;
        if (out.basename === undefined) out.basename = file.name;
      }
      if (Array.isArray(value.secondaryFiles)) out.secondaryFiles = await visit(value.secondaryFiles, `${at}.secondaryFiles`);
      if (Array.isArray(value.listing)) out.listing = await visit(value.listing, `${at}.listing`);
      return out;
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = await visit(v, `${at}.${k}`);
      return out;
    }
    return value;
  };
  return (await visit(job, 'job')) as Record<string, unknown>;
}
