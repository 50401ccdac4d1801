import path from 'node:path';
import type { CommandLineTool } from '../model.ts';
import { UnsupportedRequirementError } from './cwl-errors.ts';
import { isFsObject, type FsObject } from './file-objects.ts';
import { findRequirement } from './requirements.ts';
import { visitFsObjects } from './types.ts';

export interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/** How one tool run maps onto a container: its image, its mounts, and paths both ways. */
export interface ContainerPlan {
  engine: string;
  image: string;
  outdir: string;
  tmpdir: string;
  mounts: Mount[];
  networkAccess: boolean;
}

const INPUTS_ROOT = '/var/lib/cwl/inputs';

/** The image a DockerRequirement names; building or loading images is not supported. */
export function dockerImage(tool: CommandLineTool): string {
  const req = findRequirement(tool, 'DockerRequirement')!;
  const image = req.dockerImageId ?? req.dockerPull;
  if (typeof image !== 'string' || !image) {
    throw new UnsupportedRequirementError('DockerRequirement: only dockerPull and dockerImageId are supported (not dockerFile, dockerLoad or dockerImport)');
  }
  return image;
}

/**
 * Plans a containerised run: the output directory at the tool's `dockerOutputDirectory` (else
 * /var/spool/cwl), the temporary directory at /tmp, and every input File or Directory mounted
 * read-only under /var/lib/cwl/inputs with its secondary files beside it.
 */
export function planContainer(tool: CommandLineTool, engine: string, inputs: Record<string, unknown>, dirs: { outdir: string; tmpdir: string }): ContainerPlan {
  const req = findRequirement(tool, 'DockerRequirement')!;
  const outdir = typeof req.dockerOutputDirectory === 'string' ? req.dockerOutputDirectory : '/var/spool/cwl';
  const network = findRequirement(tool, 'NetworkAccess');
  const mounts: Mount[] = [
    { host: dirs.outdir, container: outdir, readOnly: false },
    { host: dirs.tmpdir, container: '/tmp', readOnly: false },
  ];
  const seen = new Set<string>();
  let counter = 0;
  const mountInput = (obj: FsObject, dir: string) => {
    const host = String(obj.path);
    if (seen.has(host) || insideAny(host, [dirs.outdir, dirs.tmpdir])) return;
    seen.add(host);
    mounts.push({ host, container: path.posix.join(dir, String(obj.basename)), readOnly: true });
  };
  visitTopLevel(inputs, (obj) => {
    const dir = path.posix.join(INPUTS_ROOT, String(counter++));
    mountInput(obj, dir);
    for (const sf of (obj.secondaryFiles as unknown[] | undefined) ?? []) if (isFsObject(sf)) mountInput(sf, dir);
  });
  return { engine, image: dockerImage(tool), outdir, tmpdir: '/tmp', mounts, networkAccess: network?.networkAccess === true };
}

const insideAny = (p: string, roots: string[]) => roots.some((r) => p === r || p.startsWith(r + path.sep));

/** Files and Directories of a value, not descending into listings (a mounted folder brings its own). */
function visitTopLevel(value: unknown, visit: (obj: FsObject) => void) {
  if (Array.isArray(value)) value.forEach((v) => visitTopLevel(v, visit));
  else if (isFsObject(value)) visit(value);
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => visitTopLevel(v, visit));
}

/** A host path as the container sees it (the longest mount that holds it), or the path unchanged. */
export function toContainerPath(plan: ContainerPlan, hostPath: string): string {
  const mount = [...plan.mounts].sort((a, b) => b.host.length - a.host.length).find((m) => hostPath === m.host || hostPath.startsWith(m.host + path.sep));
  return mount ? mount.container + hostPath.slice(mount.host.length) : hostPath;
}

/** A container path as a host path, or the path unchanged. */
export function toHostPath(plan: ContainerPlan, containerPath: string): string {
  const mount = [...plan.mounts]
    .sort((a, b) => b.container.length - a.container.length)
    .find((m) => containerPath === m.container || containerPath.startsWith(m.container + '/'));
  return mount ? mount.host + containerPath.slice(mount.container.length) : containerPath;
}

/** A copy of a value with every File and Directory path (and location, dirname) as the container sees it. */
export function containerView<T>(value: T, plan: ContainerPlan): T {
  const copy = structuredClone(value);
  visitFsObjects(copy, (obj) => {
    if (typeof obj.path !== 'string') return;
    const mapped = toContainerPath(plan, obj.path);
    obj.path = mapped;
    obj.location = `file://${mapped}`;
    obj.dirname = path.posix.dirname(mapped);
  });
  return copy;
}

/** The engine's command line that runs `argv` in the planned container. */
export function containerCommand(plan: ContainerPlan, argv: string[], env: Record<string, string>, options: { name: string; uid?: number; gid?: number }): string[] {
  const args = [plan.engine, 'run', '--rm', '--interactive', `--name=${options.name}`, `--workdir=${plan.outdir}`];
  if (!plan.networkAccess) args.push('--network=none');
  if (options.uid !== undefined && options.gid !== undefined) args.push(`--user=${options.uid}:${options.gid}`);
  for (const m of plan.mounts) args.push(`--volume=${m.host}:${m.container}:${m.readOnly ? 'ro' : 'rw'}`);
  for (const [key, value] of Object.entries(env)) args.push(`--env=${key}=${value}`);
  args.push(plan.image, ...argv);
  return args;
}
