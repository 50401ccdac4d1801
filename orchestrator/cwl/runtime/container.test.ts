import { describe, expect, it } from 'vitest';
import type { CommandLineTool } from '../model.ts';
import { UnsupportedRequirementError } from './cwl-errors.ts';
import { containerCommand, containerView, planContainer, toContainerPath, toHostPath } from './container.ts';

// No container engine runs on the machines this is tested on: these tests pin the plan and the engine
// command line; running it is left to an engine (`docker`/`podman` answering `info`).
const tool = (requirements: CommandLineTool['requirements'], hints: CommandLineTool['hints'] = []): CommandLineTool => ({
  class: 'CommandLineTool',
  id: 't',
  cwlVersion: 'v1.2',
  inputs: [],
  outputs: [],
  requirements,
  hints,
  namespaces: {},
  schemas: [],
  sourceFile: '/tools/t.cwl',
  baseCommand: [],
  arguments: [],
  successCodes: [0],
  temporaryFailCodes: [],
  permanentFailCodes: [],
});
const dirs = { outdir: '/work/run1/out', tmpdir: '/work/run1/tmp' };
const file = (p: string, basename: string, extra: Record<string, unknown> = {}): Record<string, unknown> & { path: string } => ({
  class: 'File',
  path: p,
  location: `file://${p}`,
  basename,
  dirname: p.slice(0, p.lastIndexOf('/')),
  ...extra,
});

describe('container plan', () => {
  const inputs = {
    reads: file('/data/sample.fq', 'sample.fq', { secondaryFiles: [file('/data/sample.fq.fai', 'sample.fq.fai')] }),
    staged: file('/work/run1/out/config.txt', 'config.txt'),
    refs: [{ class: 'Directory', path: '/refs/hg38', location: 'file:///refs/hg38', basename: 'hg38', listing: [file('/refs/hg38/a.fa', 'a.fa')] }],
  };

  it('mounts the output and temporary directories read-write and each input read-only, secondary files beside it', () => {
    const plan = planContainer(tool([{ class: 'DockerRequirement', dockerPull: 'debian:12' }]), 'docker', inputs, dirs);
    expect(plan.image).toBe('debian:12');
    expect(plan.mounts).toEqual([
      { host: '/work/run1/out', container: '/var/spool/cwl', readOnly: false },
      { host: '/work/run1/tmp', container: '/tmp', readOnly: false },
      { host: '/data/sample.fq', container: '/var/lib/cwl/inputs/0/sample.fq', readOnly: true },
      { host: '/data/sample.fq.fai', container: '/var/lib/cwl/inputs/0/sample.fq.fai', readOnly: true },
      { host: '/refs/hg38', container: '/var/lib/cwl/inputs/2/hg38', readOnly: true },
    ]);
    expect(plan.networkAccess).toBe(false);
  });

  it('shows the tool its own paths, and maps them back', () => {
    const plan = planContainer(tool([], [{ class: 'DockerRequirement', dockerImageId: 'img:1', dockerOutputDirectory: '/out' }]), 'podman', inputs, dirs);
    const view = containerView(inputs, plan);
    expect(view.reads.path).toBe('/var/lib/cwl/inputs/0/sample.fq');
    expect(view.reads.location).toBe('file:///var/lib/cwl/inputs/0/sample.fq');
    expect((view.reads.secondaryFiles as { path: string }[])[0]!.path).toBe('/var/lib/cwl/inputs/0/sample.fq.fai');
    expect(view.staged.path).toBe('/out/config.txt');
    expect(view.refs[0]!.listing[0]!.path).toBe('/var/lib/cwl/inputs/2/hg38/a.fa');
    expect(inputs.reads.path).toBe('/data/sample.fq');
    expect(toHostPath(plan, '/out/results/x.txt')).toBe('/work/run1/out/results/x.txt');
    expect(toHostPath(plan, '/var/lib/cwl/inputs/2/hg38/a.fa')).toBe('/refs/hg38/a.fa');
    expect(toContainerPath(plan, '/elsewhere/file')).toBe('/elsewhere/file');
  });

  it('builds the engine command: no network unless NetworkAccess, the caller’s user, mounts, environment, image, argv', () => {
    const plan = planContainer(
      tool([{ class: 'DockerRequirement', dockerPull: 'debian:12' }, { class: 'NetworkAccess', networkAccess: true }]),
      'docker',
      { reads: inputs.reads },
      dirs,
    );
    const argv = containerCommand(plan, ['cat', '/var/lib/cwl/inputs/0/sample.fq'], { HOME: '/var/spool/cwl' }, { name: 'archipel-x', uid: 1000, gid: 1000 });
    expect(argv).toEqual([
      'docker',
      'run',
      '--rm',
      '--interactive',
      '--name=archipel-x',
      '--workdir=/var/spool/cwl',
      '--user=1000:1000',
      '--volume=/work/run1/out:/var/spool/cwl:rw',
      '--volume=/work/run1/tmp:/tmp:rw',
      '--volume=/data/sample.fq:/var/lib/cwl/inputs/0/sample.fq:ro',
      '--volume=/data/sample.fq.fai:/var/lib/cwl/inputs/0/sample.fq.fai:ro',
      '--env=HOME=/var/spool/cwl',
      'debian:12',
      'cat',
      '/var/lib/cwl/inputs/0/sample.fq',
    ]);
    const closed = planContainer(tool([{ class: 'DockerRequirement', dockerPull: 'debian:12' }]), 'docker', {}, dirs);
    expect(containerCommand(closed, ['true'], {}, { name: 'n' })).toContain('--network=none');
  });

  it('refuses images it would have to build or load', () => {
    expect(() => planContainer(tool([{ class: 'DockerRequirement', dockerFile: 'FROM debian' }]), 'docker', {}, dirs)).toThrow(UnsupportedRequirementError);
  });
});
