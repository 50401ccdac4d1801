import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { interruptionMessage } from './interruption.ts';
import type { Container, Template, Volume, VolumeMount, WorkflowManifest } from './manifest.ts';
import type { ContainerRunner } from './process-runner.ts';
import { parseCpu, parseMemoryMiB } from './quantity.ts';
import type { ResourceRequest } from './resource-scheduler.ts';
import type { NodeOutputs, NodeParameter } from '../../core/index.ts';

export interface PodContainer extends Container {
  name: string;
  /** script templates: the source, written to a file passed as the last argument. */
  source?: string;
}

/** The containers of a container, script or containerSet template (a single one is named `main`). */
export function podContainers(template: Template): PodContainer[] {
  if (template.container) return [{ ...template.container, name: template.container.name ?? 'main' }];
  if (template.script) return [{ ...template.script, name: template.script.name ?? 'main' }];
  const set = template.containerSet;
  if (!set) return [];
  return set.containers.map((c) => ({ ...c, name: c.name ?? 'main', volumeMounts: [...(set.volumeMounts ?? []), ...(c.volumeMounts ?? [])] }));
}

/** The container whose stdout and exit code are the pod's (`main`, as Argo's containerSet names it). */
export function mainContainer(containers: PodContainer[]): PodContainer | undefined {
  return containers.find((c) => c.name === 'main') ?? containers.at(-1);
}

export const DEFAULT_REQUEST: ResourceRequest = { cpu: 1, memoryMiB: 256 };

/**
 * What a pod asks of the machine: the sum of its containers' requests (a limit stands for a missing
 * request, as in Kubernetes); a resource no container names gets the default.
 */
export function podRequest(template: Template, defaults: ResourceRequest = DEFAULT_REQUEST): ResourceRequest {
  let cpu = 0;
  let memoryMiB = 0;
  for (const c of podContainers(template)) {
    const requests = { ...c.resources?.limits, ...c.resources?.requests };
    if (requests.cpu !== undefined) cpu += parseCpu(requests.cpu);
    if (requests.memory !== undefined) memoryMiB += parseMemoryMiB(requests.memory);
  }
  return { cpu: cpu || defaults.cpu, memoryMiB: memoryMiB || defaults.memoryMiB };
}

export interface PodRun {
  runName: string;
  nodeId: string;
  /** The template, parameters already substituted. */
  template: Template;
  spec: WorkflowManifest['spec'];
  /** This pod's own directory (its emptyDirs, logs and working directories). */
  podDir: string;
  /** The run's directory (its persistent volume claims). */
  runDir: string;
  runner: ContainerRunner;
  signal: AbortSignal;
}

export interface PodResult {
  phase: 'Succeeded' | 'Failed' | 'Error';
  message?: string;
  outputs?: NodeOutputs;
}

interface Mount {
  mountPath: string;
  hostPath: string;
}

export const podLogFile = (podDir: string, container: string) => join(podDir, 'logs', `${container}.log`);

/**
 * Runs a pod on this machine: its volumes become directories (emptyDirs per pod, claims per run,
 * hostPaths as they are), every mount path found in commands, arguments, environment values, working
 * directories, script sources and output paths is replaced by its directory, and the containers run in
 * dependency order. Output parameters are read from their files once all containers succeeded.
 */
export async function runPod(pod: PodRun): Promise<PodResult> {
  const containers = podContainers(pod.template);
  await mkdir(join(pod.podDir, 'logs'), { recursive: true });
  const volumes = await volumeDirs(pod);
  const mountsOf = async (c: PodContainer): Promise<Mount[]> => {
    const mounts = (c.volumeMounts ?? []).map((m) => toMount(m, volumes));
    await Promise.all(mounts.map((m) => mkdir(m.hostPath, { recursive: true })));
    return mounts;
  };

  type Outcome = { exitCode: number | null; startError?: string; stdout: string } | 'not-run';
  const started = new Map<string, Promise<Outcome>>();
  const start = (c: PodContainer): Promise<Outcome> => {
    let outcome = started.get(c.name);
    if (!outcome) {
      outcome = (async (): Promise<Outcome> => {
        const deps = await Promise.all((c.dependencies ?? []).map((d) => start(containers.find((x) => x.name === d)!)));
        if (pod.signal.aborted || deps.some((d) => d === 'not-run' || d.exitCode !== 0)) return 'not-run';
        const mounts = await mountsOf(c);
        const map = (text: string) => mapPaths(text, mounts);
        const home = join(pod.podDir, 'containers', c.name);
        const workingDir = c.workingDir === undefined ? home : map(c.workingDir) === c.workingDir ? join(pod.podDir, 'rootfs', c.workingDir) : map(c.workingDir);
        await mkdir(workingDir, { recursive: true });
        await mkdir(home, { recursive: true });
        const args = (c.args ?? []).map(map);
        if (c.source !== undefined) {
          const script = join(pod.podDir, 'containers', `${c.name}.script`);
          await writeFile(script, map(c.source), { mode: 0o755 });
          args.push(script);
        }
        const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, map(e.value ?? '')]));
        return pod.runner({
          runName: pod.runName,
          nodeId: pod.nodeId,
          container: c.name,
          command: (c.command ?? []).map(map),
          args,
          env: { HOME: home, ...env },
          workingDir,
          logFile: podLogFile(pod.podDir, c.name),
          annotations: pod.template.metadata?.annotations ?? {},
          signal: pod.signal,
        });
      })();
      started.set(c.name, outcome);
    }
    return outcome;
  };
  const outcomes = await Promise.all(containers.map(start));

  const main = mainContainer(containers);
  const mainOutcome = main ? outcomes[containers.indexOf(main)] : undefined;
  const exitCode = mainOutcome && mainOutcome !== 'not-run' && mainOutcome.exitCode !== null ? { exitCode: String(mainOutcome.exitCode) } : {};
  if (pod.signal.aborted) return { phase: 'Failed', message: interruptionMessage(pod.signal), outputs: exitCode };

  const label = (name: string) => (pod.template.containerSet ? `container "${name}": ` : '');
  for (const [i, outcome] of outcomes.entries()) {
    const name = containers[i]!.name;
    if (outcome === 'not-run') continue;
    if (outcome.startError !== undefined) return { phase: 'Error', message: `${label(name)}${outcome.startError}`, outputs: exitCode };
    if (outcome.exitCode !== 0) {
      const why = outcome.exitCode === null ? 'Error (killed by a signal)' : `Error (exit code ${outcome.exitCode})`;
      // As Argo's executor does, a failed pod still reports the output parameters whose files exist.
      const parameters = await readParameters(false);
      return { phase: 'Failed', message: `${label(name)}${why}`, outputs: { ...exitCode, ...(parameters.length ? { parameters } : {}) } };
    }
  }

  const outputs: NodeOutputs = { ...exitCode };
  if (mainOutcome && mainOutcome !== 'not-run') outputs.result = trimNewline(mainOutcome.stdout);
  let parameters: NodeParameter[];
  try {
    parameters = await readParameters(true);
  } catch (error) {
    return { phase: 'Error', message: (error as Error).message, outputs };
  }
  if (parameters.length) outputs.parameters = parameters;
  return { phase: 'Succeeded', outputs };

  /** The template's output parameters; `strict`: a missing file without a default is an error, else it is left out. */
  async function readParameters(strict: boolean): Promise<NodeParameter[]> {
  const allMounts = containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => toMount(m, volumes)));
  const parameters: NodeParameter[] = [];
  for (const p of pod.template.outputs?.parameters ?? []) {
    if (p.valueFrom?.path === undefined) {
      parameters.push({ name: p.name, value: p.value ?? p.valueFrom?.default ?? '' });
      continue;
    }
    const path = mapPaths(p.valueFrom.path, allMounts);
    try {
      parameters.push({ name: p.name, value: trimNewline(await readFile(path, 'utf8')) });
    } catch (error) {
      if (p.valueFrom.default !== undefined) parameters.push({ name: p.name, value: p.valueFrom.default });
      else if (strict) throw new Error(`cannot read output parameter "${p.name}" from ${p.valueFrom.path}: ${(error as Error).message}`);
    }
  }
  return parameters;
  }
}

/** Argo removes one trailing newline from output files and results. */
const trimNewline = (text: string) => (text.endsWith('\n') ? text.slice(0, -1) : text);

async function volumeDirs(pod: PodRun): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const c of pod.spec.volumeClaimTemplates ?? []) dirs.set(c.metadata.name, join(pod.runDir, 'volumes', c.metadata.name));
  const place = (v: Volume) => {
    if (v.hostPath) dirs.set(v.name, v.hostPath.path);
    else if (v.persistentVolumeClaim) dirs.set(v.name, join(pod.runDir, 'volumes', v.persistentVolumeClaim.claimName));
    else dirs.set(v.name, join(pod.podDir, 'volumes', v.name)); // emptyDir: one per pod
  };
  // The template's own volumes win over the workflow's, as Argo merges them.
  for (const v of pod.spec.volumes ?? []) place(v);
  for (const v of pod.template.volumes ?? []) place(v);
  return dirs;
}

function toMount(m: VolumeMount, volumes: Map<string, string>): Mount {
  const base = volumes.get(m.name);
  if (base === undefined) throw new Error(`no volume named "${m.name}"`);
  const mountPath = m.mountPath.length > 1 ? m.mountPath.replace(/\/+$/, '') : m.mountPath;
  return { mountPath, hostPath: m.subPath ? join(base, m.subPath) : base };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces mount paths where they stand as paths: `/work`, `/work/x`, `--out=/work` map; `/workspace`
 * and `a/work` do not. Longer mount paths first, so nested mounts win.
 */
export function mapPaths(text: string, mounts: Mount[]): string {
  const usable = mounts.filter((m) => m.mountPath !== '/').sort((a, b) => b.mountPath.length - a.mountPath.length);
  if (!usable.length) return text;
  const pattern = new RegExp(`(?<![\\w.\\-/])(${usable.map((m) => escape(m.mountPath)).join('|')})(?![\\w.\\-])`, 'g');
  return text.replace(pattern, (path) => usable.find((m) => m.mountPath === path)!.hostPath);
}
