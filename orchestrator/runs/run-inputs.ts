import { InvalidInputError } from '../../core/index.ts';
import { mapFsObjects, mapNestedFields } from '../cwl/runtime/map-fs-objects.ts';
import { objectLocation } from '../steps/store-files.ts';
import { uploadedFileId, type FileService, type RunCaller } from './file-service.ts';

/**
 * Points the File objects of a submitted job at the uploads they name (`archipel:files/<id>`, which the
 * caller must be allowed to use) in the node's object store. Every other location is refused: the node
 * does not read its own disk or the network for a user's job. Literals (`contents`, `listing`) stay.
 */
export async function resolveJobFiles<T extends object>(caller: RunCaller, job: T, files: Pick<FileService, 'get'>, signal?: AbortSignal, what = 'job'): Promise<T> {
  return mapFsObjects(job, async (value, nested, where) => {
    const at = `${what}${where}`;
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
    return { ...out, ...(await mapNestedFields(value, nested)) };
  });
}
