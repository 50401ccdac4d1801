import { createRoute, z } from '@hono/zod-openapi';
import { InvalidInputError } from '../../core/index.ts';
import { createRouter, errorResponses, jsonResponse } from '../../platform/http/index.ts';
import type { FileService, UploadedFile } from '../runs/file-service.ts';
import { requestSignal, runCallerOf } from './run-caller.ts';
import { FileIdParam, FileSchema, UploadQuery } from './run-schemas.ts';

export interface FileRoutesDeps {
  files: FileService;
  memberProjectNames(userId: string): Promise<string[]>;
}

const secured = [{ bearer: [] }];
const tags = ['files'];

const fileJson = (f: UploadedFile) => ({
  id: f.id,
  name: f.name,
  size: f.size,
  sha256: f.sha256,
  project: f.project,
  owner: f.owner,
  createdAt: f.createdAt.toISOString(),
  location: f.location,
});

/** One `bytes=start-end` range of a file of `size` bytes; undefined for the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // several ranges or another unit: the whole file, as RFC 9110 allows
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(size - Number(match[2]), 0);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/**
 * Uploads for run inputs under `/api/v1/files`: `POST /files?name=reads.fastq` streams the request body into
 * the node's object store and answers the location a job names the file by; `GET /files/{id}` downloads it
 * (with `Range` requests).
 */
export function createFileRoutes({ files, memberProjectNames }: FileRoutesDeps) {
  const router = createRouter();
  const callerOf = runCallerOf(memberProjectNames);
  const signal = requestSignal;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/files',
      tags,
      summary: 'Upload a file (the raw request body) for use as a run input; answers the location to put in a job',
      security: secured,
      request: {
        query: UploadQuery,
        body: { required: true, content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      },
      responses: { 201: jsonResponse(FileSchema, 'The stored file'), ...errorResponses(400, 401, 404, 413) },
    }),
    async (c) => {
      const { name, project } = c.req.valid('query');
      const body = c.req.raw.body;
      if (!body) throw new InvalidInputError('the request has no body: send the file as the request body', [{ path: 'body', message: 'required' }]);
      const file = await files.upload(await callerOf(c), { name, ...(project !== undefined ? { project } : {}), body: body as unknown as AsyncIterable<Uint8Array> }, signal(c));
      return c.json(fileJson(file), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/files',
      tags,
      summary: 'The files you uploaded, newest first',
      security: secured,
      responses: { 200: jsonResponse(z.object({ items: z.array(FileSchema) }), 'Your files'), ...errorResponses(401) },
    }),
    async (c) => c.json({ items: (await files.list(await callerOf(c), signal(c))).map(fileJson) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/files/{id}',
      tags,
      summary: 'Download a file (a single `Range: bytes=a-b` is answered with 206)',
      security: secured,
      request: { params: FileIdParam },
      responses: {
        200: { description: 'The file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
        206: { description: 'The requested range', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
        ...errorResponses(401, 404, 416),
      },
    }),
    async (c) => {
      const caller = await callerOf(c);
      const { id } = c.req.valid('param');
      const meta = await files.get(caller, id, signal(c));
      const range = parseRange(c.req.header('Range'), meta.size);
      if (range === 'unsatisfiable') {
        c.header('Content-Range', `bytes */${meta.size}`);
        return c.json({ error: { code: 'range-not-satisfiable', message: `the file has ${meta.size} bytes`, details: { size: meta.size } } }, 416);
      }
      const { body } = await files.open(caller, id, range, signal(c));
      c.header('Content-Type', 'application/octet-stream');
      c.header('Accept-Ranges', 'bytes');
      c.header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(meta.name)}`);
      c.header('Content-Length', String(range ? range.end - range.start + 1 : meta.size));
      if (range) c.header('Content-Range', `bytes ${range.start}-${range.end}/${meta.size}`);
      return c.body(ReadableStream.from(body) as ReadableStream<Uint8Array>, range ? 206 : 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/files/{id}',
      tags,
      summary: 'Delete a file you uploaded (runs that used it keep their results; 409 while a run that reads it has not ended)',
      security: secured,
      request: { params: FileIdParam },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404, 409) },
    }),
    async (c) => {
      await files.delete(await callerOf(c), c.req.valid('param').id, signal(c));
      return c.body(null, 204);
    },
  );

  return router;
}
