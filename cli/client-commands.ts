import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { InvalidInputError, NotImplementedError } from '../core/index.ts';
import { formatFailure } from './format-failure.ts';
import { asWorkflow, loadCwlProcess, prepareWorkflowJob, readJobFile, withJobRequirements } from '../orchestrator/index.ts';
import { clientConfigFile, loadClientConfig, saveClientConfig } from './client/client-config.ts';
import { createNodeClient, type NodeClient } from './client/node-client.ts';
import { packDocument } from './client/pack-document.ts';
import { uploadFile, uploadJobFiles, withNodeLocationsAside, type UploadedFile } from './client/upload-job.ts';
import { downloadOutputs } from './client/download-outputs.ts';
import { formatDuration, renderRun, watchRun, type RunView } from './client/watch-run.ts';

/**
 * The commands that talk to a node's API: `login`, `submit`, `runs ...`, `files ...`. They print what
 * a person reads on a terminal and JSON with `--json` (or piped output where noted).
 */
interface Io {
  stdout: { isTTY?: boolean; write(text: string): void };
  stderr: { write(text: string): void };
}

const defaultIo: Io = { stdout: process.stdout, stderr: process.stderr };

function client(): NodeClient {
  return createNodeClient(loadClientConfig());
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `key=value` option values as pairs; a malformed one is refused naming the option. */
function parsePairs(values: string[] | undefined, option: string): [string, string][] {
  return (values ?? []).map((v) => {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`${option} ${v}: expected key=value`, [{ path: option, message: 'expected key=value' }]);
    return [v.slice(0, eq), v.slice(eq + 1)];
  });
}

function parseLabels(values: string[] | undefined): Record<string, string> | undefined {
  return values?.length ? Object.fromEntries(parsePairs(values, '--label')) : undefined;
}

/** `--place STEP=CLUSTER` and `--avoid STEP=CLUSTER` as a run request's `placement`. */
function parsePlacement(place: string[] | undefined, avoid: string[] | undefined): Record<string, { cluster?: string; avoid?: string[] }> | undefined {
  const out: Record<string, { cluster?: string; avoid?: string[] }> = {};
  for (const [step, cluster] of parsePairs(place, '--place')) out[step] = { ...out[step], cluster };
  for (const [step, cluster] of parsePairs(avoid, '--avoid')) out[step] = { ...out[step], avoid: [...(out[step]?.avoid ?? []), cluster] };
  return Object.keys(out).length ? out : undefined;
}

interface RunPlanView {
  steps: { step: string; cluster: string; reasons: string[]; alternatives: { cluster: string; score: number }[]; excluded: { cluster: string; why: string }[] }[];
  clusters: { id: string; name?: string; local: boolean; reachable: boolean; free: { cores: number; memoryMiB: number; gpus: number } }[];
}

/** A plan as text: the clusters the node saw, then one line per step with its cluster and why. */
function renderPlan(plan: RunPlanView): string {
  const nameOf = (id: string) => {
    const c = plan.clusters.find((x) => x.id === id);
    return c?.local ? `${c.name ?? id} (this cluster)` : (c?.name ?? id);
  };
  const clusters = plan.clusters.map(
    (c) => `  ${nameOf(c.id)}  ${c.id}  ${c.reachable ? `${c.free.cores} cores, ${c.free.memoryMiB} MiB, ${c.free.gpus} GPUs free` : 'not reachable'}`,
  );
  const width = Math.max(4, ...plan.steps.map((s) => s.step.length));
  const steps = plan.steps.map((s) => `  ${s.step.padEnd(width)}  ${nameOf(s.cluster)}: ${s.reasons.join('; ')}`);
  return ['clusters:', ...clusters, 'steps:', ...steps, ''].join('\n');
}

const runLine = (r: RunView) =>
  [r.id, r.phase.padEnd(9), r.project, formatDuration((r.finishedAt ? Date.parse(r.finishedAt) : Date.now()) - Date.parse(r.startedAt ?? r.createdAt)).padStart(7), r.name].join('  ');

/** Adds the client commands to the program. */
export function registerClientCommands(program: Command, io: Io = defaultIo) {
  const out = (text: string) => io.stdout.write(text);
  const json = (value: unknown) => out(`${JSON.stringify(value, null, 2)}\n`);

  program
    .command('login')
    .description(`remember a node and a token for the client commands (in ${clientConfigFile()}, readable only by you)`)
    .requiredOption('--node <url>', 'the node’s URL, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'an API token (else log in with --user and a password read from standard input)')
    .option('--user <name>', 'log in with this user’s password, read from standard input')
    .action(async (options: { node: string; token?: string; user?: string }) => {
      const node = options.node.replace(/\/+$/, '');
      let token = options.token ?? process.env.ARCHIPEL_TOKEN;
      if (!token) {
        if (!options.user) throw new InvalidInputError('give --token, or --user with the password on standard input', [{ path: '--token', message: 'required' }]);
        const password = (await readStdin()).replace(/\r?\n$/, '');
        const response = await fetch(`${node}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: options.user, password }) }).catch((error: unknown) => {
          throw new InvalidInputError(`cannot reach ${node}: ${(error as Error).message}`);
        });
        const body = (await response.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
        if (!response.ok || !body.token) throw new InvalidInputError(`login refused: ${body.error?.message ?? response.statusText}`);
        token = body.token;
      }
      // The token must work before it is kept.
      await createNodeClient({ node, token }).json('GET', '/runs?limit=1');
      saveClientConfig({ node, token });
      out(`Logged in to ${node}; saved in ${clientConfigFile()}\n`);
    });

  program
    .command('submit')
    .description('run a CWL workflow or tool on the node: uploads the job’s local files, submits, and with --watch follows it to the end')
    .argument('[document]', 'the CWL document (files it runs or imports are packed into it); with --service, the job file')
    .argument('[job]', 'the job file (YAML or JSON); its local files are uploaded')
    .requiredOption('--project <name>', 'the project the run belongs to')
    .option('--service <entry>', "run a service catalog entry's tool instead of a document")
    .option('--cluster <id>', 'with --service: the peered cluster whose entry it is')
    .option('--place <step=cluster...>', 'run this step on this cluster (followed in cluster mode)')
    .option('--avoid <step=cluster...>', 'never run this step on this cluster')
    .option('--name <name>', 'a name for the run')
    .option('--label <key=value...>', 'labels to find the run by')
    .option('--outputs <entry>', 'also write the output files to this storage catalog entry')
    .option('--outputs-prefix <prefix>', 'under this prefix of the storage entry')
    .option('--no-reuse', 'run every step, even those an identical earlier run in the project did')
    .option('--watch', 'follow the run to its end (exit 0 when it succeeds, 1 when it fails)')
    .option('--logs', "with --watch: print the steps' log lines as they come")
    .option('--outdir <dir>', 'wait for the run, download its outputs here and print the output object, as `archipel run` and cwltool do (exit 0, 1, or 33 for an unsupported requirement)')
    .option('--json', 'print the run as JSON')
    .action(async (first: string | undefined, second: string | undefined, options: { project: string; service?: string; cluster?: string; place?: string[]; avoid?: string[]; name?: string; label?: string[]; reuse: boolean; watch?: boolean; logs?: boolean; json?: boolean; outputs?: string; outputsPrefix?: string; outdir?: string }) => {
      if (options.logs && !options.watch) throw new InvalidInputError('--logs prints log lines while following a run: give --watch too', [{ path: '--logs', message: 'needs --watch' }]);
      if (options.cluster && !options.service) throw new InvalidInputError('--cluster names the cluster of a --service entry: give --service too', [{ path: '--cluster', message: 'needs --service' }]);
      if (!options.service && !first) throw new InvalidInputError('give the CWL document to run, or --service with a service catalog entry', [{ path: 'document', message: 'required' }]);
      if (options.service && second) throw new InvalidInputError('with --service, give only the job file', [{ path: 'job', message: 'unexpected' }]);
      if (options.service && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.service)) {
        throw new InvalidInputError(`--service ${options.service}: expected a service entry's id, a UUID (GET /api/v1/catalog/search?kind=service lists them)`, [{ path: '--service', message: 'not an entry id' }]);
      }
      const node = client();
      const document = options.service ? undefined : first!;
      const jobFile = options.service ? first : second;
      const onUpload = (local: string, uploaded: { size: number; location: string }) => io.stderr.write(`uploaded ${local} (${uploaded.size} bytes) as ${uploaded.location}\n`);
      // The document's default files and the completed job name the same files: each is uploaded once.
      const uploaded = new Map<string, UploadedFile>();
      const [file, fragment] = document ? document.split('#') : [];
      const cwl = file ? await packDocument(file, (value, dir) => uploadJobFiles(node, value as Record<string, unknown>, dir, { project: options.project, onUpload, uploaded }) as never) : undefined;
      // The job is completed here as the node would (defaults, secondary files found beside their
      // files), so that every local file it needs is uploaded and named.
      const read = jobFile ? readJobFile(path.resolve(jobFile)) : { job: {}, requirements: [] };
      const jobDir = jobFile ? path.dirname(path.resolve(jobFile)) : process.cwd();
      const literals = mkdtempSync(path.join(tmpdir(), 'archipel-submit-'));
      let job: Record<string, unknown>;
      try {
        // A service's tool is read from its entry, as the caller may see it.
        let toolFile = document ? path.resolve(document) : '';
        if (options.service) {
          const entry = await node.json<{ kind: string; spec: { cwl?: string } }>('GET', `/catalog/entries/${encodeURIComponent(options.service)}${options.cluster ? `?cluster=${encodeURIComponent(options.cluster)}` : ''}`);
          if (entry.kind !== 'service' || typeof entry.spec.cwl !== 'string') throw new InvalidInputError(`catalog entry ${options.service} is a ${entry.kind} entry, not a service`, [{ path: '--service', message: 'not a service' }]);
          toolFile = path.join(literals, 'service.cwl');
          writeFileSync(toolFile, entry.spec.cwl);
        }
        const local = withJobRequirements(await loadCwlProcess(toolFile, process.cwd()), read.requirements);
        const prepared = await withNodeLocationsAside(read.job, literals, (j) => prepareWorkflowJob(asWorkflow(local), j, { jobDir, literalDir: literals }));
        job = await uploadJobFiles(node, prepared, jobDir, { project: options.project, onUpload, uploaded });
      } finally {
        rmSync(literals, { recursive: true, force: true });
      }
      const labels = parseLabels(options.label);
      let run: RunView;
      try {
        const placement = parsePlacement(options.place, options.avoid);
        run = await node.json<RunView>('POST', '/runs', {
        ...(cwl !== undefined ? { cwl } : { service: options.cluster ? { id: options.service, cluster: options.cluster } : options.service }),
        ...(fragment ? { process: fragment } : {}),
        job,
        project: options.project,
        ...(options.name ? { name: options.name } : document ? { name: path.basename(document).replace(/\.(cwl|ya?ml|json)$/, '') } : {}),
        ...(labels ? { labels } : {}),
        ...(placement ? { placement } : {}),
        ...(options.reuse === false ? { reuse: false } : {}),
        ...(options.outputs ? { outputs: { entry: options.outputs, ...(options.outputsPrefix ? { prefix: options.outputsPrefix } : {}) } } : {}),
        });
      } catch (error) {
        // As `archipel run` and cwltool: 33 for a requirement this node cannot meet.
        if (error instanceof NotImplementedError && options.outdir) {
          io.stderr.write(formatFailure(error));
          process.exitCode = 33;
          return;
        }
        throw error;
      }
      if (options.outdir) {
        const final = await watchRun(node, run.id, { write: () => {} });
        if (final.phase !== 'Succeeded') {
          io.stderr.write(`archipel: run ${run.id} ${final.phase}: ${final.message ?? ''}\n`);
          process.exitCode = final.steps.some((s) => s.phase === 'Failed' && s.exitCode === 33) ? 33 : 1;
          return;
        }
        const outputs = await node.json<Record<string, unknown>>('GET', `/runs/${run.id}/outputs`);
        return json(await downloadOutputs(node, outputs, path.resolve(options.outdir)));
      }
      if (!options.watch) return options.json ? json(run) : out(`${run.id}\n`);
      io.stderr.write(`submitted run ${run.id}\n`);
      const final = await watchRun(node, run.id, io.stdout, undefined, { logs: options.logs === true });
      if (options.json) json(final);
      process.exitCode = final.phase === 'Succeeded' ? 0 : 1;
    });

  program
    .command('plan')
    .description('show where each step of a workflow would run in the federation, and why, without running anything')
    .argument('<document>', 'the CWL document (files it runs or imports are packed into it)')
    .argument('[job]', 'the job file (YAML or JSON)')
    .requiredOption('--project <name>', 'the project the run would belong to')
    .option('--place <step=cluster...>', 'run this step on this cluster')
    .option('--avoid <step=cluster...>', 'never run this step on this cluster')
    .option('--json', 'print the plan as JSON')
    .action(async (document: string, jobFile: string | undefined, options: { project: string; place?: string[]; avoid?: string[]; json?: boolean }) => {
      const [file, fragment] = document.split('#');
      const cwl = await packDocument(file!);
      const job = jobFile ? readJobFile(path.resolve(jobFile)).job : {};
      const placement = parsePlacement(options.place, options.avoid);
      const plan = await client().json<RunPlanView>('POST', '/runs?dryRun=true', { cwl, ...(fragment ? { process: fragment } : {}), job, project: options.project, ...(placement ? { placement } : {}) });
      if (options.json) return json(plan);
      out(renderPlan(plan));
    });

  const runs = program.command('runs').description('the runs of your projects on the node');
  runs
    .command('list')
    .description('runs, newest first')
    .option('--project <name>')
    .option('--phase <phase>', 'Pending, Running, Succeeded, Failed or Error')
    .option('--label <key=value...>')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json')
    .action(async (options: { project?: string; phase?: string; label?: string[]; limit?: string; json?: boolean }) => {
      const query = new URLSearchParams();
      if (options.project) query.set('project', options.project);
      if (options.phase) query.set('phase', options.phase);
      if (options.limit) query.set('limit', options.limit);
      for (const l of options.label ?? []) query.append('label', l);
      const page = await client().json<{ items: RunView[] }>('GET', `/runs?${query}`);
      if (options.json) return json(page.items);
      for (const r of page.items) out(`${runLine(r)}\n`);
    });
  runs
    .command('get')
    .argument('<run>')
    .option('--json')
    .action(async (id: string, options: { json?: boolean }) => {
      const run = await client().json<RunView>('GET', `/runs/${encodeURIComponent(id)}`);
      if (options.json) json(run);
      else out(`${renderRun(run)}\n`);
    });
  runs
    .command('watch')
    .argument('<run>')
    .description('follow a run to its end')
    .option('--logs', "print the steps' log lines as they come")
    .action(async (id: string, options: { logs?: boolean }) => {
      const final = await watchRun(client(), id, io.stdout, undefined, { logs: options.logs === true });
      process.exitCode = final.phase === 'Succeeded' ? 0 : 1;
    });
  runs
    .command('logs')
    .argument('<run>')
    .argument('<step>', 'the step (outer/inner inside a subworkflow)')
    .option('-f, --follow', 'keep printing as the log grows, until the step ends')
    .action(async (id: string, step: string, options: { follow?: boolean }) => {
      const response = await client().request('GET', `/runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/logs${options.follow ? '?follow=true' : ''}`);
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) out(decoder.decode(chunk, { stream: true }));
    });
  for (const [verb, description] of [
    ['stop', 'stop a run: its running steps are killed and it fails'],
    ['retry', 'run a failed or stopped run again; steps that succeeded keep their outputs'],
  ] as const) {
    runs
      .command(verb)
      .argument('<run>')
      .description(description)
      .action(async (id: string) => {
        const run = await client().json<RunView>('POST', `/runs/${encodeURIComponent(id)}/${verb}`);
        out(`${run.id} ${run.phase}\n`);
      });
  }
  runs
    .command('delete')
    .argument('<run>')
    .description('delete a finished run with its files')
    .action(async (id: string) => {
      await client().json('DELETE', `/runs/${encodeURIComponent(id)}`);
      out(`deleted ${id}\n`);
    });
  runs
    .command('outputs')
    .argument('<run>')
    .description('print the output object; with --download, fetch its files into a folder')
    .option('--download <dir>', 'download the output files here (each File named by its basename)')
    .option('--step <step>', "one step's outputs instead of the run's (outer/inner inside a subworkflow)")
    .action(async (id: string, options: { download?: string; step?: string }) => {
      const node = client();
      const outputs = await node.json<Record<string, unknown>>('GET', `/runs/${encodeURIComponent(id)}${options.step ? `/steps/${encodeURIComponent(options.step)}` : ''}/outputs`);
      if (options.download) return json(await downloadOutputs(node, outputs, path.resolve(options.download)));
      json(outputs);
    });

  const files = program.command('files').description('files on the node for use as run inputs');
  files
    .command('upload')
    .argument('<file>')
    .option('--project <name>', 'let the members of this project use it too')
    .option('--name <name>', 'the name it has in a job (default: its file name)')
    .action(async (file: string, options: { project?: string; name?: string }) => {
      const uploaded = await uploadFile(client(), path.resolve(file), options);
      json(uploaded);
    });
  files
    .command('list')
    .option('--json')
    .action(async (options: { json?: boolean }) => {
      const { items } = await client().json<{ items: { id: string; name: string; size: number; location: string; createdAt: string }[] }>('GET', '/files');
      if (options.json) return json(items);
      for (const f of items) out(`${f.id}  ${String(f.size).padStart(10)}  ${f.createdAt}  ${f.name}\n`);
    });
  files
    .command('download')
    .argument('<id>', 'the file id (or its archipel:files/<id> location)')
    .option('-o, --output <file>', 'where to write it (default: its name, in the current folder)')
    .action(async (idOrLocation: string, options: { output?: string }) => {
      const id = idOrLocation.replace(/^archipel:files\//, '');
      const node = client();
      const meta = (await node.json<{ items: { id: string; name: string }[] }>('GET', '/files')).items.find((f) => f.id === id);
      const response = await node.request('GET', `/files/${encodeURIComponent(id)}`);
      const target = path.resolve(options.output ?? meta?.name ?? id);
      await pipeline(Readable.fromWeb(response.body as never), createWriteStream(target));
      io.stderr.write(`wrote ${target}\n`);
    });
}
