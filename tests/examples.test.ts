import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/main.ts';
import { createArgoWorkflowValidator, DEFAULT_ARGO_SCHEMA_PATH } from '../orchestrator/argo/workflow-schema.ts';
import { REPO_ROOT, runArchipel } from './support/archipel-process.ts';

/**
 * The README's commands, as a new user types them in a checkout, on the files of `examples/`. They are
 * read from README.md itself (every `npx archipel ...` line of its sh blocks and inline code), so an edit
 * that names a file the repository lacks, a command or option the CLI lacks, or that stops working,
 * fails here. Those that need no node (`run`, `argo export`, `swarm-key generate`) are run; the others
 * are checked against the CLI's commands and options. `examples/federation.sh` takes a minute or two
 * (three nodes' first start); it is checked the same way, and run only with
 * ARCHIPEL_TEST_FEDERATION_SCRIPT=1.
 */
const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const SCRIPT = path.join(REPO_ROOT, 'examples/federation.sh');
const root = mkdtempSync(path.join(tmpdir(), 'archipel-examples-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A command line split into words as sh would, for the quoting the README uses ('...', "..."). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(match[1] ?? match[2] ?? match[3]!);
  return out;
}

/** Every `npx archipel ...` command of the README: sh blocks (continuations joined, comments dropped), then inline code. */
function readmeCommands(): string[] {
  const commands: string[] = [];
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)];
  for (const [, block] of blocks) {
    for (const line of block!.replace(/\\\n\s*/g, ' ').split('\n')) {
      if (line.startsWith('npx archipel ')) commands.push(line.replace(/\s+#\s.*$/, '').trim());
    }
  }
  const prose = README.replace(/```[\s\S]*?```/g, '');
  for (const [, inline] of prose.matchAll(/`(npx archipel [^`]+)`/g)) commands.push(inline!);
  return commands;
}

/** A CWL document, job file or script named in a command must be in the repository (from its root). */
const ships = (arg: string) => !/\.(cwl|ya?ml|json|sh)(#\S*)?$/.test(arg) || arg.includes('$') || existsSync(path.join(REPO_ROOT, arg.split('#')[0]!));

/** What is wrong with `archipel <args>` against the CLI's own commands and options (nothing: []). */
function cliProblems(args: string[]): string[] {
  let command: Command = buildProgram();
  let i = 0;
  for (let sub = command.commands.find((c) => c.name() === args[i]); sub; sub = command.commands.find((c) => c.name() === args[i])) {
    command = sub;
    i++;
  }
  const name = ['archipel', ...args.slice(0, i)].join(' ');
  const problems: string[] = [];
  const asksHelp = args.includes('--help') || args.includes('-h');
  if (command.commands.length && args[i] !== undefined && !args[i]!.startsWith('-')) return [`${name}: no command ${args[i]}`];
  if (command.commands.length && !asksHelp && i > 0) problems.push(`${name}: names no subcommand (${command.commands.map((c) => c.name()).join(', ')})`);
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) {
      // From `run`'s document on, options are the tool's inputs.
      if (command.name() === 'run') break;
      if (!ships(arg)) problems.push(`${name}: ${arg} is not in the repository`);
      continue;
    }
    const flag = arg.split('=')[0]!;
    if (flag === '--help' || flag === '-h' || (command.parent === null && flag === '--version')) continue;
    const option = command.options.find((o) => o.long === flag || o.short === flag);
    if (!option) problems.push(`${name}: no option ${flag}`);
    else if ((option.required || option.optional) && !arg.includes('=')) i++;
  }
  // run's document and job file.
  if (command.name() === 'run') {
    for (const file of args.slice(i).filter((a) => !ships(a))) problems.push(`${name}: ${file} is not in the repository`);
  }
  return problems;
}

/** The `archipel` invocations of the federation script (`"${archipel[@]}" ...`, continuations joined), as words. */
function scriptCommands(): string[][] {
  const text = readFileSync(SCRIPT, 'utf8').replace(/\\\n\s*/g, ' ');
  return [...text.matchAll(/"\$\{archipel\[@\]\}" ([^\n|>]*)/g)].map(([, rest]) => words(rest!).filter((w) => !/^\d?>|^\|/.test(w)));
}

const commands = readmeCommands();
const local = (command: string) => /^npx archipel (run|argo export|swarm-key generate) /.test(command);

/** Runs a README command as written, in a folder holding a copy of examples/ (as a checkout's root does). */
async function runReadmeCommand(command: string, cwd: string) {
  const child = runArchipel(words(command).slice(2), { cwd });
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

function checkout(): string {
  const dir = mkdtempSync(path.join(root, 'checkout-'));
  cpSync(path.join(REPO_ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
  return dir;
}

describe("the README's commands, on examples/", () => {
  it('names only commands and options the CLI has, and files the repository ships', () => {
    expect(commands.flatMap((c) => cliProblems(words(c).slice(2)))).toEqual([]);
    expect(commands.length).toBeGreaterThan(10);
    expect(commands.filter(local).length).toBeGreaterThanOrEqual(5);
  });

  it('runs the tool from a job file and from an input option, and the two-step workflow, with the outputs they promise', { timeout: 240_000 }, async () => {
    const runs = commands.filter((c) => c.startsWith('npx archipel run '));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const job = load(readFileSync(path.join(REPO_ROOT, 'examples/job.yml'), 'utf8')) as { message: string };
    for (const command of runs) {
      const args = words(command);
      const dir = checkout();
      const { code, stdout, stderr } = await runReadmeCommand(command, dir);
      expect(code, `${command}\n${stderr}`).toBe(0);
      const outputs = JSON.parse(stdout) as Record<string, { class: string; path: string }>;
      const at = args.indexOf('--message');
      const message = at >= 0 ? args[at + 1]! : job.message;
      const outdir = args.includes('--outdir') ? path.join(dir, args[args.indexOf('--outdir') + 1]!) : dir;
      if (args.includes('examples/echo.cwl')) {
        expect(outputs.out, command).toMatchObject({ class: 'File', path: path.join(outdir, 'message.txt') });
        expect(readFileSync(outputs.out!.path, 'utf8')).toBe(`${message}\n`);
      } else if (args.includes('examples/workflow.cwl')) {
        expect(outputs.shouted, command).toMatchObject({ class: 'File', path: path.join(outdir, 'shouted.txt') });
        expect(readFileSync(outputs.shouted!.path, 'utf8')).toBe(`${message.toUpperCase()}\n`);
      } else {
        expect.fail(`no expectation for the README's "${command}": add one here`);
      }
    }
  });

  it('exports the workflow as an Argo Workflow that validates, its step placed on the cluster named', { timeout: 60_000 }, async () => {
    const exports = commands.filter((c) => c.startsWith('npx archipel argo export '));
    expect(exports.length).toBeGreaterThanOrEqual(1);
    const validate = existsSync(DEFAULT_ARGO_SCHEMA_PATH) ? createArgoWorkflowValidator() : undefined;
    for (const command of exports) {
      const { code, stdout, stderr } = await runReadmeCommand(command, checkout());
      expect(code, `${command}\n${stderr}`).toBe(0);
      const manifest = load(stdout) as { kind: string; spec: { templates: { metadata?: { annotations?: Record<string, string> } }[] } };
      expect(manifest.kind).toBe('Workflow');
      // Argo's schema lives beside the repository (../shared/argo); CI has it.
      if (validate) expect(validate(manifest)).toEqual({ valid: true });
      const placed = /--place (\S+)=(\S+)/.exec(command);
      if (placed) {
        const targets = manifest.spec.templates.map((t) => t.metadata?.annotations?.['archipel.io/target-cluster']).filter(Boolean);
        expect(targets).toEqual([placed[2]]);
      }
    }
  });

  it('refuses a --place naming no step of the workflow, listing its steps, or no well-formed cluster id', async () => {
    const dir = checkout();
    const cluster = /--place shout=(\S+)/.exec(commands.find((c) => c.startsWith('npx archipel argo export '))!)![1]!;
    const noStep = runArchipel(['argo', 'export', 'examples/workflow.cwl', '--place', `nosuchstep=${cluster}`], { cwd: dir });
    expect(await noStep.exited).toBe(2);
    expect(noStep.stdout()).toBe('');
    expect(noStep.stderr()).toContain(`archipel: --place nosuchstep=${cluster}: no command-line tool step "nosuchstep" in this workflow (its command-line tool steps: say, shout)`);
    const noCluster = runArchipel(['argo', 'export', 'examples/workflow.cwl', '--place', 'shout=nosuchcluster'], { cwd: dir });
    expect(await noCluster.exited).toBe(2);
    expect(noCluster.stdout()).toBe('');
    expect(noCluster.stderr()).toContain('archipel: --place shout=nosuchcluster: "nosuchcluster" is not a cluster id');
  });

  it('makes the swarm key of "Forming a federation" readable only by its owner', async () => {
    const command = commands.find((c) => c.startsWith('npx archipel swarm-key generate'))!;
    expect(command).toBeDefined();
    const dir = checkout();
    const { code, stderr } = await runReadmeCommand(command, dir);
    expect(code, stderr).toBe(0);
    const file = path.join(dir, words(command)[words(command).indexOf('--out') + 1]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
  });
});

describe('examples/federation.sh', () => {
  it('is a bash script that uses only archipel commands and options that exist, on the example files', () => {
    expect(statSync(SCRIPT).mode & 0o111, 'executable').not.toBe(0);
    const syntax = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
    const invoked = scriptCommands();
    expect(invoked.map((args) => args.slice(0, 2).join(' '))).toEqual(
      expect.arrayContaining(['swarm-key generate', 'plan examples/workflow.cwl', 'submit examples/workflow.cwl', 'runs outputs']),
    );
    expect(invoked.some((args) => args[0] === 'up')).toBe(true);
    expect(invoked.flatMap((args) => cliProblems(args))).toEqual([]);
  });

  it.runIf(process.env.ARCHIPEL_TEST_FEDERATION_SCRIPT === '1')('runs the workflow on three nodes, its shout step on bravo', { timeout: 600_000 }, () => {
    const work = mkdtempSync(path.join(root, 'federation-'));
    const result = spawnSync(SCRIPT, [work], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' }, timeout: 590_000 });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/shout ran on bravo/);
    expect(readFileSync(path.join(work, 'results/shouted.txt'), 'utf8')).toBe('HELLO FROM ARCHIPEL\n');
  });
});
