import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/index.ts';
import { loadConfig } from './config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'archipel-config-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const invalid = (fn: () => unknown): InvalidInputError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected an InvalidInputError');
};

describe('node configuration', () => {
  it('has working defaults: data in ./.archipel, HTTP on 127.0.0.1:8080, embedded stores', () => {
    const config = loadConfig({}, {}, '/srv/node');
    expect(config).toMatchObject({
      dataDir: '/srv/node/.archipel',
      http: { host: '127.0.0.1', port: 8080 },
      p2p: { port: 4001 },
      database: {},
      objectStore: {},
    });
    expect(Object.isFrozen(config.http)).toBe(true);
  });

  it('applies file, then environment, then flags', () => {
    const configFile = file('layers.yaml', 'name: from-file\nhttp:\n  port: 9000\n  host: 0.0.0.0\np2p:\n  port: 5000\n');
    const config = loadConfig(
      { configFile, httpPort: '9100' },
      { ARCHIPEL_P2P_PORT: '5100', ARCHIPEL_NAME: 'from-env', DATABASE_URL: 'postgres://db/x' },
      dir,
    );
    expect(config.name).toBe('from-env');
    expect(config.http).toMatchObject({ port: 9100, host: '0.0.0.0' });
    expect(config.p2p.port).toBe(5100);
    expect(config.database.url).toBe('postgres://db/x');
  });

  it('selects S3 from the S3_* variables', () => {
    const config = loadConfig({}, { S3_BUCKET: 'runs', S3_ENDPOINT: 'http://127.0.0.1:9000' }, dir);
    expect(config.objectStore.s3).toMatchObject({ bucket: 'runs', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true });
  });

  it('reports every problem at once, naming where each bad value came from', () => {
    const configFile = file('bad.yaml', 'name: ok\nhttp:\n  port: 99999\nlog:\n  level: loud\ncolour: blue\n');
    const error = invalid(() => loadConfig({ configFile, p2pPort: 'abc' }, { DATABASE_URL: 'mysql://x' }, dir));
    expect(error.message).toMatch(/5 problems/);
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i]));
    expect(byPath['http.port']).toMatchObject({ file: configFile, line: 3 });
    expect(byPath['log.level']!.message).toMatch(/line 5/);
    expect(byPath['p2p.port']!.message).toMatch(/option --p2p-port/);
    expect(byPath['database.url']!.message).toMatch(/environment variable DATABASE_URL/);
    expect(byPath['(root)']!.message).toMatch(/unknown setting\(s\): colour/);
  });

  it('names the line of a YAML syntax error', () => {
    const configFile = file('syntax.yaml', 'name: a\nhttp:\n  port: [1, 2\n');
    const error = invalid(() => loadConfig({ configFile }, {}, dir));
    expect(error.message).toMatch(/syntax\.yaml:\d+ is not valid YAML/);
  });

  it('says so when the config file is missing', () => {
    expect(() => loadConfig({ configFile: 'nope.yaml' }, {}, dir)).toThrow(/cannot read config file .*nope\.yaml/);
  });
});
