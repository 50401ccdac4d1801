import type { ObjectStore } from '../../core/index.ts';

/** A JSON object of the run's state. */
export async function readJson<T>(store: ObjectStore, key: string): Promise<T> {
  const { body } = await store.get(key);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

export const writeJson = (store: ObjectStore, key: string, value: unknown) =>
  store.put(key, Buffer.from(JSON.stringify(value)), { contentType: 'application/json' });
