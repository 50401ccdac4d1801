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

  it('reads the federation settings from file, environment and flags', () => {
    const defaults = loadConfig({}, {}, dir);
    expect(defaults.p2p).toEqual({ host: '127.0.0.1', port: 4001, announce: [], bootstrap: [], peeringPolicy: { mode: 'manual' } });
    expect(defaults.kubernetes).toEqual({ namespace: 'archipel' });

    const configFile = file('p2p.yaml', 'p2p:\n  swarmKeyFile: keys/swarm.key\n  peeringPolicy:\n    mode: auto\n  bootstrap: [/ip4/10.0.0.1/tcp/4001]\n');
    const fromFile = loadConfig({ configFile }, {}, dir);
    expect(fromFile.p2p).toMatchObject({ swarmKeyFile: path.join(dir, 'keys/swarm.key'), peeringPolicy: { mode: 'auto' }, bootstrap: ['/ip4/10.0.0.1/tcp/4001'] });

    const fromEnv = loadConfig({ configFile }, { ARCHIPEL_BOOTSTRAP: '/ip4/10.0.0.2/tcp/4001, /ip4/10.0.0.3/tcp/4001', ARCHIPEL_P2P_HOST: '0.0.0.0' }, dir);
    expect(fromEnv.p2p).toMatchObject({ host: '0.0.0.0', bootstrap: ['/ip4/10.0.0.2/tcp/4001', '/ip4/10.0.0.3/tcp/4001'] });

    const id = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';
    const fromFlags = loadConfig(
      { configFile, bootstrap: ['/ip4/10.0.0.4/tcp/4001', '/ip4/10.0.0.5/tcp/4001'], peeringPolicy: `allow:${id}`, swarmKeyFile: '/etc/swarm.key', p2pPort: '0' },
      { ARCHIPEL_BOOTSTRAP: '/ip4/10.0.0.2/tcp/4001' },
      dir,
    );
    expect(fromFlags.p2p).toMatchObject({
      port: 0,
      swarmKeyFile: '/etc/swarm.key',
      bootstrap: ['/ip4/10.0.0.4/tcp/4001', '/ip4/10.0.0.5/tcp/4001'],
      peeringPolicy: { mode: 'allowList', allowedClusterIds: [id] },
    });
    expect(Object.isFrozen(fromFlags.p2p.bootstrap)).toBe(true);
  });

  it('reports bad federation settings with where they came from', () => {
    const error = invalid(() =>
      loadConfig({ p2pHost: 'example.org', bootstrap: ['10.0.0.1:4001'], peeringPolicy: 'sometimes' }, { ARCHIPEL_PEERING_POLICY: 'auto' }, dir),
    );
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i]));
    expect(byPath['p2p.host']!.message).toMatch(/must be an IP address .*option --p2p-host/);
    expect(byPath['p2p.bootstrap.0']!.message).toMatch(/must be a multiaddr .*option --bootstrap/);
    expect(byPath['p2p.peeringPolicy.mode']!.message).toMatch(/option --peering-policy/);
    expect(invalid(() => loadConfig({ peeringPolicy: 'allow:not-an-id!' }, {}, dir)).issues[0]!.path).toBe('p2p.peeringPolicy.allowedClusterIds.0');
  });

  it('offers this machine’s capacity by default, with no quota per peer', () => {
    expect(loadConfig({}, {}, dir).compute).toEqual({ capacity: { source: 'machine' } });
  });

  it('reads the compute capacity and peer quota from file, environment and flags', () => {
    const configFile = file(
      'compute.yaml',
      'compute:\n  capacity:\n    source: static\n    cores: 7.5\n    memoryMiB: 16384\n  peerQuota:\n    cores: 2\n    gpus: 0\n',
    );
    const fromFile = loadConfig({ configFile }, {}, dir);
    expect(fromFile.compute).toEqual({ capacity: { source: 'static', cores: 7.5, memoryMiB: 16384 }, peerQuota: { cores: 2, gpus: 0 } });
    expect(Object.isFrozen(fromFile.compute.peerQuota)).toBe(true);

    const fromEnv = loadConfig(
      { configFile },
      { ARCHIPEL_COMPUTE_GPUS: '2', ARCHIPEL_COMPUTE_CORES: '0.5', ARCHIPEL_COMPUTE_PEER_QUOTA_MEMORY_MIB: '4096' },
      dir,
    );
    expect(fromEnv.compute).toEqual({
      capacity: { source: 'static', cores: 0.5, memoryMiB: 16384, gpus: 2 },
      peerQuota: { cores: 2, memoryMiB: 4096, gpus: 0 },
    });

    const machine = loadConfig({ computeSource: 'machine', computeCores: '3', computeMemoryMiB: '2048', computeGpus: '1' }, { ARCHIPEL_COMPUTE_SOURCE: 'static' }, dir);
    expect(machine.compute.capacity).toEqual({ source: 'machine', cores: 3, memoryMiB: 2048, gpus: 1 });
  });

  it('reads the Kubernetes node selector and GPU resources, with a kubeconfig or inside a pod', () => {
    const env = {
      ARCHIPEL_COMPUTE_SOURCE: 'kubernetes',
      ARCHIPEL_COMPUTE_NODE_SELECTOR: 'archipel.io/compute=true,!node-role.kubernetes.io/control-plane',
      ARCHIPEL_COMPUTE_GPU_RESOURCES: 'nvidia.com/gpu, example.com/tpu',
    };
    expect(loadConfig({ kubeconfig: 'kube/config' }, env, dir).compute.capacity).toEqual({
      source: 'kubernetes',
      nodeSelector: 'archipel.io/compute=true,!node-role.kubernetes.io/control-plane',
      gpuResources: ['nvidia.com/gpu', 'example.com/tpu'],
    });
    expect(loadConfig({}, { ...env, KUBERNETES_SERVICE_HOST: '10.96.0.1' }, dir).compute.capacity.source).toBe('kubernetes');
    const outside = invalid(() => loadConfig({ computeSource: 'kubernetes' }, {}, dir));
    expect(outside.message).toMatch(/^invalid configuration: compute\.capacity\.source: source kubernetes needs kubernetes\.kubeconfig/);
    expect(outside.issues).toEqual([
      {
        path: 'compute.capacity.source',
        message: 'source kubernetes needs kubernetes.kubeconfig (--kubeconfig), or to run in a pod (KUBERNETES_SERVICE_HOST set) (from option --compute-source)',
      },
    ]);
  });

  it('reports every bad compute setting at once, with where it came from', () => {
    const configFile = file('bad-compute.yaml', 'compute:\n  capacity:\n    source: static\n    gpus: 1.5\n  peerQuota:\n    cores: -1\n    disks: 2\n');
    const byPath = (error: InvalidInputError) => Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    const staticErrors = byPath(invalid(() => loadConfig({ configFile }, { ARCHIPEL_COMPUTE_CORES: '0.0001' }, dir)));
    expect(staticErrors).toEqual({
      'compute.capacity.cores': expect.stringMatching(/^must be a whole number of thousandths of a core .*environment variable ARCHIPEL_COMPUTE_CORES/),
      'compute.capacity.gpus': expect.stringMatching(/^must be a whole number \(from config file .*line 4\)/),
      'compute.capacity.memoryMiB': expect.stringMatching(/^required with source static \(from config file .*bad-compute\.yaml, line 3\)/),
      'compute.peerQuota.cores': expect.stringMatching(/>=0.*line 6/),
      'compute.peerQuota': expect.stringMatching(/unknown setting\(s\): compute\.peerQuota\.disks .*line 7/),
    });

    const kubernetesErrors = byPath(
      invalid(() =>
        loadConfig(
          { computeSource: 'kubernetes', computeGpus: '1', kubeconfig: 'kube/config' },
          { ARCHIPEL_COMPUTE_NODE_SELECTOR: 'zone in (a', ARCHIPEL_COMPUTE_GPU_RESOURCES: 'nvidia.com/' },
          dir,
        ),
      ),
    );
    expect(kubernetesErrors).toEqual({
      'compute.capacity.gpus': 'not used with source kubernetes, which offers the nodes’ allocatable capacity (from option --compute-gpus)',
      'compute.capacity.nodeSelector': expect.stringMatching(/^must be a Kubernetes label selector: "zone in \(a" is not a label selector requirement.*ARCHIPEL_COMPUTE_NODE_SELECTOR/),
      'compute.capacity.gpuResources.0': expect.stringMatching(/^must be a resource name .*ARCHIPEL_COMPUTE_GPU_RESOURCES/),
    });

    expect(byPath(invalid(() => loadConfig({ computeSource: 'cloud' }, { ARCHIPEL_COMPUTE_NODE_SELECTOR: 'a=b' }, dir)))).toEqual({
      'compute.capacity.source': expect.stringMatching(/"machine".*"kubernetes".*"static".*option --compute-source/),
      'compute.capacity.nodeSelector': 'only used with source kubernetes (from environment variable ARCHIPEL_COMPUTE_NODE_SELECTOR)',
    });
  });

  it('runs workflows on an Argo server only with an S3 object store its pods can reach', () => {
    expect(loadConfig({}, {}, '/srv').argo).toEqual({ namespace: 'argo' });
    const problem = invalid(() => loadConfig({ argoServer: 'https://argo.example:2746' }, {}, '/srv'));
    expect(problem.message).toMatch(/argo\.server: runs on an Argo server need an S3 object store/);
    const config = loadConfig({ argoServer: 'https://argo.example:2746', argoNamespace: 'science' }, { S3_BUCKET: 'runs', ARGO_TOKEN: 'sa', ARCHIPEL_MAX_UPLOAD_BYTES: '1024' }, '/srv');
    expect(config.argo).toEqual({ server: 'https://argo.example:2746', namespace: 'science', token: 'sa' });
    expect(config.runs.maxUploadBytes).toBe(1024);
    expect(invalid(() => loadConfig({ argoNamespace: 'Not_A_Namespace' }, {}, '/srv')).message).toMatch(/argo\.namespace/);
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

describe('single sign-on configuration', () => {
  const oidcFile = (text: string) => file(`oidc-${Math.random().toString(36).slice(2)}.yaml`, text);

  it('is off by default, and takes the secret from the environment with defaults for the rest', () => {
    expect(loadConfig({}, {}, dir).oidc).toBeUndefined();
    const configFile = oidcFile('oidc:\n  issuer: https://idp.example.org/realms/lab\n  clientId: archipel\n  projectsClaim: groups\n');
    const config = loadConfig({ configFile }, { ARCHIPEL_OIDC_CLIENT_SECRET: 's3cret' }, dir);
    expect(config.oidc).toEqual({
      issuer: 'https://idp.example.org/realms/lab',
      clientId: 'archipel',
      clientSecret: 's3cret',
      scopes: ['openid', 'profile', 'email'],
      displayName: 'Single sign-on',
      projectsClaim: 'groups',
      usernameClaim: 'preferred_username',
    });
    expect(Object.isFrozen(config.oidc!.scopes)).toBe(true);
  });

  it('accepts scopes as one string, a redirect URI, and a plain-http provider on loopback', () => {
    const configFile = oidcFile(
      'oidc:\n  issuer: http://127.0.0.1:9000\n  clientId: archipel\n  clientSecret: x\n  scopes: openid groups\n  redirectUri: https://archipel.example.org/api/v1/auth/oidc/callback\n  displayName: Lab login\n',
    );
    expect(loadConfig({ configFile }, {}, dir).oidc).toMatchObject({
      issuer: 'http://127.0.0.1:9000',
      scopes: ['openid', 'groups'],
      redirectUri: 'https://archipel.example.org/api/v1/auth/oidc/callback',
      displayName: 'Lab login',
    });
  });

  it('names each bad field', () => {
    const configFile = oidcFile('oidc:\n  issuer: http://idp.example.org\n  scopes: [profile]\n  redirectUri: ftp://x\n  colour: blue\n');
    const error = invalid(() => loadConfig({ configFile }, {}, dir));
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
    expect(byPath['oidc.issuer']).toMatch(/must be an https:\/\/ URL \(http:\/\/ only on localhost or 127\.0\.0\.1\).*line 2/);
    expect(byPath['oidc.clientId']).toMatch(/required/);
    expect(byPath['oidc.clientSecret']).toMatch(/ARCHIPEL_OIDC_CLIENT_SECRET/);
    expect(byPath['oidc.scopes']).toMatch(/must include "openid"/);
    expect(byPath['oidc.redirectUri']).toMatch(/http:\/\/ or https:\/\//);
    expect(byPath.oidc).toMatch(/unknown setting\(s\): oidc.colour/);
  });
});
