import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { aliasBomb } from './support/alias-bomb.ts';
import { runArchipel } from './support/archipel-process.ts';

/** `archipel run` as a user runs it: its own process, a tool file, a job file or --name value inputs. */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(root, String(folders++));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function archipelRun(dir: string, args: string[]) {
  const child = runArchipel(['run', '--tmpdir-prefix', path.join(dir, 'work-'), ...args], { cwd: dir });
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

const noStackTrace = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

// Prints its two inputs; the output is the printed text, read back without JavaScript.
const greet = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [printf, '%s x%s']
inputs:
  greeting: {type: string, inputBinding: {position: 1}}
  count: {type: int, default: 1, inputBinding: {position: 2}}
stdout: greeting.txt
outputs:
  text:
    type: string
    outputBinding:
      glob: greeting.txt
      loadContents: true
      outputEval: $(self[0].contents)
  file: stdout
`;

describe('archipel run', () => {
  it('prints only the output object as JSON on stdout and exits 0', async () => {
    const dir = folder({ 'tool.cwl': greet, 'job.yml': 'greeting: hello\ncount: 2\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['--outdir', 'results', 'tool.cwl', 'job.yml']);
    expect(code, stderr).toBe(0);
    const outputs = JSON.parse(stdout) as { text: string; file: { class: string; path: string; size: number } };
    expect(outputs.text).toBe('hello x2');
    expect(outputs.file).toMatchObject({ class: 'File', path: path.join(dir, 'results', 'greeting.txt'), size: 8 });
    expect(readFileSync(outputs.file.path, 'utf8')).toBe('hello x2');
    // The working directory is cleaned up.
    expect(readdirSync(dir).filter((name) => name.startsWith('work-'))).toEqual([]);
  });

  it("sends the tool's own uncaptured output to stderr, keeping stdout for the output object", async () => {
    const dir = folder({ 'noisy.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [echo, noise from the tool]\ninputs: []\noutputs: []\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['noisy.cwl']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({});
    expect(stderr).toContain('noise from the tool');
  });

  it('takes inputs as --name value after the tool, alone or overriding a job file', async () => {
    const dir = folder({ 'tool.cwl': greet, 'job.yml': 'greeting: hello\ncount: 2\n' });
    const alone = await archipelRun(dir, ['--outdir', 'a', 'tool.cwl', '--greeting', 'hi there', '--count', '3']);
    expect(alone.code, alone.stderr).toBe(0);
    expect((JSON.parse(alone.stdout) as { text: string }).text).toBe('hi there x3');

    const withJob = await archipelRun(dir, ['--outdir', 'b', 'tool.cwl', 'job.yml', '--count=5']);
    expect(withJob.code, withJob.stderr).toBe(0);
    expect((JSON.parse(withJob.stdout) as { text: string }).text).toBe('hello x5');
  });

  it('reports a malformed document in one line with its file and line, without a stack trace, and exits 1', async () => {
    const dir = folder({ 'tool.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  x: string\n   y: int\noutputs: []\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.split('\n').filter((l) => l.trim());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${path.join(dir, 'tool.cwl')}:5`);
    noStackTrace(stderr);
  });

  it('refuses a YAML alias bomb, in the document or in the job, in a moment and without growing', async () => {
    const tool = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs: {}\noutputs: []\n';
    const dir = folder({ 'bomb.cwl': `${tool}${aliasBomb()}`, 'tool.cwl': tool, 'job.yml': aliasBomb() });
    for (const args of [['bomb.cwl'], ['tool.cwl', 'job.yml']]) {
      const child = runArchipel(['run', '--tmpdir-prefix', path.join(dir, 'work-'), ...args], { cwd: dir });
      const timer = setTimeout(() => void child.stop('SIGKILL'), 20_000);
      const code = await child.exited;
      clearTimeout(timer);
      expect(code, child.stderr()).toBe(1);
      expect(child.stderr()).toContain(`${path.join(dir, args.at(-1)!)}: the document expands to more than`);
      noStackTrace(child.stderr());
    }
  });

  it('rejects a job with a wrong type, naming the input, and exits 1', async () => {
    const dir = folder({ 'tool.cwl': greet, 'job.yml': 'greeting: hello\ncount: many\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl', 'job.yml']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/count: expected int/);
    noStackTrace(stderr);

    const option = await archipelRun(dir, ['tool.cwl', '--greeting', 'hi', '--count', 'many']);
    expect(option.code).toBe(1);
    expect(option.stderr).toContain('--count');
    noStackTrace(option.stderr);
  });

  it('reports an option it does not know as an unknown option, naming it and pointing to its help, and exits 2', async () => {
    const dir = folder({ 'tool.cwl': greet });
    const unknown = await archipelRun(dir, ['--place', 'x', 'tool.cwl']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(`archipel: unknown option '--place'\n(run "archipel run --help" for usage)\n`);
    const typo = await archipelRun(dir, ['--outdri', 'out', 'tool.cwl']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^archipel: unknown option '--outdri'\n\(Did you mean --outdir\?\)/);
    // After the document an option is a tool input; one of the runner's there is said to belong before it.
    const late = await archipelRun(dir, ['tool.cwl', '--greeting', 'hi', '--outdir', 'out']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/^archipel: --outdir is an option of archipel run, not an input of the tool: give it before the document/);
    noStackTrace(late.stderr);
  });

  it('exits 33 when the process requires something this runner does not support', async () => {
    const dir = folder({ 'tool.cwl': greet, 'job.yml': 'greeting: hello\ncwl:requirements:\n  - class: QuantumRequirement\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl', 'job.yml']);
    expect(code).toBe(33);
    expect(stdout).toBe('');
    expect(stderr).toContain('QuantumRequirement');
    noStackTrace(stderr);
  });

  it('exits 33 for an unknown requirement class in the document itself, while unknown hints are ignored', async () => {
    const dir = folder({
      'required.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\nrequirements:\n  QuantumRequirement: {}\ninputs: []\noutputs: []\nbaseCommand: "true"\n',
      'hinted.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\nhints:\n  QuantumRequirement: {}\ninputs: []\noutputs: []\nbaseCommand: "true"\n',
    });
    const required = await archipelRun(dir, ['required.cwl']);
    expect(required.code).toBe(33);
    expect(required.stderr).toContain('unsupported requirement QuantumRequirement');
    const hinted = await archipelRun(dir, ['hinted.cwl']);
    expect(hinted.code).toBe(0);
    expect(JSON.parse(hinted.stdout)).toEqual({});
  });

  it('stops an expression that loops forever after --eval-timeout, with a message naming it', async () => {
    const dir = folder({
      'loop.cwl':
        'cwlVersion: v1.2\nclass: ExpressionTool\nrequirements:\n  InlineJavascriptRequirement: {}\ninputs: []\noutputs: []\nexpression: "${ while (true) {} }"\n',
    });
    const started = Date.now();
    const { code, stdout, stderr } = await archipelRun(dir, ['--eval-timeout', '1', 'loop.cwl']);
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/expression timed out after 1000 ms: \$\{ while \(true\) \{\} \}/);
    noStackTrace(stderr);
  });

  it('refuses an int input beyond 32 bits from a job file instead of passing it on as 1e+23', async () => {
    const dir = folder({ 'tool.cwl': greet, 'job.yml': 'greeting: hi\ncount: 99999999999999999999999\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl', 'job.yml']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('archipel: invalid job: count: 1e+23 is not an int (−2^31..2^31−1)');
    noStackTrace(stderr);
  });

  it('refuses a workflow that runs itself, naming the file and the step, instead of overflowing the stack', async () => {
    const dir = folder({ 'self.cwl': 'cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  again: {run: self.cwl, in: {}, out: []}\n' });
    const { code, stderr } = await archipelRun(dir, ['self.cwl']);
    expect(code).toBe(1);
    expect(stderr).toContain(`archipel: ${path.join(dir, 'self.cwl')}:6:16: steps[0].run: a workflow cannot run itself, directly or through other files: self.cwl steps[0].run → self.cwl`);
    expect(stderr).not.toContain('unexpected error');
  });

  it('names a misspelt field deep in a workflow by its step and path, at its line and column', async () => {
    const dir = folder({
      'tool.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs: []\noutputs: []\n',
      'wf.cwl': 'cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  - id: a\n    run: tool.cwl\n    in: []\n    out: []\n    scater: x\n',
    });
    const { code, stderr } = await archipelRun(dir, ['--quiet', 'wf.cwl']);
    expect(code).toBe(1);
    expect(stderr).toContain(`archipel: ${path.join(dir, 'wf.cwl')}:10:5: steps[0] (id: a).scater: unknown field "scater" (did you mean "scatter"?)`);
  });

  it('names the wrong class of a document', async () => {
    const dir = folder({ 'typo.cwl': 'cwlVersion: v1.2\nclass: CommandLinTool\ninputs: []\noutputs: []\n' });
    const { code, stderr } = await archipelRun(dir, ['typo.cwl']);
    expect(code).toBe(1);
    expect(stderr).toContain(`${path.join(dir, 'typo.cwl')}:2:8: class: expected one of CommandLineTool, ExpressionTool, Workflow, Operation, got "CommandLinTool"`);
  });
});

// A workflow whose steps pass a file: greet writes it, count reads it (scattered over two inputs).
const count = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [wc, -c]
inputs:
  file: {type: File, inputBinding: {position: 1}}
stdout: count.txt
outputs:
  bytes:
    type: int
    outputBinding: {glob: count.txt, loadContents: true, outputEval: '$(parseInt(self[0].contents))'}
`;
const pipeline = `cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
  InlineJavascriptRequirement: {}
inputs:
  greetings: string[]
outputs:
  files: {type: 'File[]', outputSource: greet/file}
  bytes: {type: 'int[]', outputSource: count/bytes}
steps:
  greet:
    run: greet.cwl
    scatter: greeting
    in: {greeting: greetings}
    out: [file]
  count:
    run: count.cwl
    scatter: file
    in: {file: greet/file}
    out: [bytes]
`;

describe('archipel run workflow.cwl (through the Argo translation and the local engine)', () => {
  it('runs the steps, passing files between them, and puts the output files in --outdir', async () => {
    const dir = folder({ 'greet.cwl': greet, 'count.cwl': count, 'wf.cwl': pipeline, 'job.yml': 'greetings: [hi, hello]\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['--outdir', 'out', 'wf.cwl', 'job.yml']);
    expect(code, stderr).toBe(0);
    const outputs = JSON.parse(stdout) as { files: { path: string; basename: string }[]; bytes: number[] };
    expect(outputs.bytes).toEqual([5, 8]);
    expect(outputs.files.map((f) => readFileSync(f.path, 'utf8'))).toEqual(['hi x1', 'hello x1']);
    for (const f of outputs.files) expect(path.dirname(f.path)).toBe(path.join(dir, 'out'));
    expect(readdirSync(dir).filter((name) => name.startsWith('work-'))).toEqual([]);
  });

  it('gives the output files the time they were made, not a fixed old one', async () => {
    const dir = folder({ 'greet.cwl': greet, 'count.cwl': count, 'wf.cwl': pipeline, 'job.yml': 'greetings: [hi]\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['--outdir', 'out', 'wf.cwl', 'job.yml']);
    expect(code, stderr).toBe(0);
    const [file] = (JSON.parse(stdout) as { files: { path: string }[] }).files;
    expect(Math.abs(statSync(file!.path).mtimeMs - Date.now())).toBeLessThan(60_000);
  });

  it('runs the same way with every step container as its own process (--isolate-steps)', async () => {
    const dir = folder({ 'greet.cwl': greet, 'count.cwl': count, 'wf.cwl': pipeline, 'job.yml': 'greetings: [hey]\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['--isolate-steps', '--outdir', 'out', 'wf.cwl', 'job.yml']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ bytes: [6], files: [{ basename: 'greeting.txt' }] });
  });

  it('fails with exit 1 naming the failed step, and shows what the tool said', async () => {
    const fails = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sh, -c, "echo broken pipe >&2; exit 3"]\ninputs: []\noutputs: []\n';
    const wf = 'cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  breaks: {run: fails.cwl, in: {}, out: []}\n';
    const dir = folder({ 'fails.cwl': fails, 'wf.cwl': wf });
    const { code, stderr } = await archipelRun(dir, ['wf.cwl']);
    expect(code).toBe(1);
    expect(stderr).toContain('breaks');
    expect(stderr).toContain('the tool exited with 3');
    expect(stderr).toContain('broken pipe');
    noStackTrace(stderr);
  });

  it('stops a step’s expression that loops forever after --eval-timeout, naming the step, the document and the field', async () => {
    const loop = 'cwlVersion: v1.2\nclass: ExpressionTool\nrequirements:\n  InlineJavascriptRequirement: {}\ninputs: []\noutputs: []\nexpression: "${ while (true) {} }"\n';
    const wf = 'cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  spin: {run: loop.cwl, in: {}, out: []}\n';
    const dir = folder({ 'loop.cwl': loop, 'wf.cwl': wf });
    const started = Date.now();
    const { code, stdout, stderr } = await archipelRun(dir, ['--eval-timeout', '1', 'wf.cwl']);
    expect(code).toBe(1);
    // Without the setting reaching the step it would stop only after the default 20 s.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(stdout).toBe('');
    expect(stderr).toContain(`archipel: the workflow failed: step spin: ${path.join(dir, 'loop.cwl')}: expression: expression timed out after 1000 ms: \${ while (true) {} }`);
    noStackTrace(stderr);
  });

  it('applies --eval-timeout to the step inputs of a scattered subworkflow, naming the field', async () => {
    const inner = `cwlVersion: v1.2
class: Workflow
requirements: {InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}
inputs: {x: int}
outputs: []
steps:
  deep:
    run: greet.cwl
    in:
      greeting: {source: x, valueFrom: "\${ while (true) {} }"}
    out: [text]
`;
    const outer = `cwlVersion: v1.2
class: Workflow
requirements: {SubworkflowFeatureRequirement: {}, ScatterFeatureRequirement: {}}
inputs: {xs: {type: 'int[]', default: [1, 2]}}
outputs: []
steps:
  sub: {run: inner.cwl, scatter: x, in: {x: xs}, out: []}
`;
    const dir = folder({ 'greet.cwl': greet, 'inner.cwl': inner, 'outer.cwl': outer });
    const { code, stderr } = await archipelRun(dir, ['--eval-timeout', '1', 'outer.cwl']);
    expect(code).toBe(1);
    expect(stderr).toContain(`${path.join(dir, 'inner.cwl')}: steps.deep.in.greeting.valueFrom: expression timed out after 1000 ms`);
    noStackTrace(stderr);
  });

  it('exits 33 before running anything when a step requires a container', async () => {
    const docker = 'cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {DockerRequirement: {dockerPull: debian}}\nbaseCommand: [touch, ran]\ninputs: []\noutputs: []\n';
    const wf = 'cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps:\n  boxed: {run: docker.cwl, in: {}, out: []}\n';
    const dir = folder({ 'docker.cwl': docker, 'wf.cwl': wf });
    const { code, stderr } = await archipelRun(dir, ['wf.cwl']);
    expect(code, stderr).toBe(33);
    expect(stderr).toContain('DockerRequirement');
  });

  it('leaves no process when killed with SIGKILL, and the next run removes its working directory', { timeout: 60_000 }, async () => {
    const marker = `sleep 53.${process.pid % 1000}`;
    const dir = folder({ 'nap.cwl': `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sh, -c, 'exec ${marker}']\ninputs: {}\noutputs: {}\n` });
    const running = () => spawnSync('pgrep', ['-f', marker]).status === 0;
    const prefix = path.join(dir, 'work-');
    const child = runArchipel(['run', '--tmpdir-prefix', prefix, 'nap.cwl'], { cwd: dir });
    await eventually(() => expect(running()).toBe(true), 30_000);
    child.child.kill('SIGKILL');
    await child.exited;
    await eventually(() => expect(running()).toBe(false), 10_000);
    const left = () => readdirSync(dir).filter((name) => name.startsWith('work-'));
    expect(left()).toHaveLength(1);
    // The next run in the same place clears what the killed one left.
    writeFileSync(path.join(dir, 'ok.cwl'), 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\ninputs: {}\noutputs: {}\n');
    const next = await archipelRun(dir, ['ok.cwl']);
    expect(next.code, next.stderr).toBe(0);
    expect(left()).toEqual([]);
  });
});

/** Documents from the field where `archipel run` once differed from the reference runner; cwltool's output is written in. */
describe('archipel run agrees with the reference runner', () => {
  it('passes cwl.output.json through as written: extra fields kept, missing optional ones left out', async () => {
    const tool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo "{\\"a\\": 1, \\"extra\\": \\"x\\"}" > cwl.output.json']
inputs: []
outputs:
  a: int
  b: string?
`;
    const dir = folder({ 'tool.cwl': tool });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl']);
    expect(code, stderr).toBe(0);
    // cwltool --no-container: {"a": 1, "extra": "x"}
    expect(JSON.parse(stdout)).toEqual({ a: 1, extra: 'x' });
  });

  it("expands a File's format with the job's own $namespaces", async () => {
    const tool = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\ninputs:\n  f: File\noutputs:\n  out: {type: string, outputBinding: {outputEval: $(inputs.f.format)}}\n';
    const job = '$namespaces:\n  edam: http://edamontology.org/\nf:\n  class: File\n  location: data.txt\n  format: edam:format_1234\n';
    const dir = folder({ 'tool.cwl': tool, 'job.yml': job, 'data.txt': 'hi\n' });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl', 'job.yml']);
    expect(code, stderr).toBe(0);
    // cwltool --no-container: {"out": "http://edamontology.org/format_1234"}
    expect(JSON.parse(stdout)).toEqual({ out: 'http://edamontology.org/format_1234' });
  });

  it('collects a staged Directory literal, read-only or writable, with glob "*"', async () => {
    const listing = (writable: boolean) =>
      writable
        ? `      - entry: '\${return {class: "Directory", basename: "d", listing: [{class: "File", basename: "a.txt", contents: "A"}]};}'\n        writable: true\n`
        : '      - {class: Directory, basename: d, listing: [{class: File, basename: a.txt, contents: "A"}]}\n';
    const tool = (writable: boolean) => `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InlineJavascriptRequirement: {}
  InitialWorkDirRequirement:
    listing:
${listing(writable)}baseCommand: "true"
inputs: []
outputs:
  all: {type: 'Directory[]', outputBinding: {glob: "*"}}
`;
    const dir = folder({ 'ro.cwl': tool(false), 'rw.cwl': tool(true) });
    for (const [file, outdir] of [['ro.cwl', 'ro'], ['rw.cwl', 'rw']] as const) {
      const { code, stdout, stderr } = await archipelRun(dir, ['--outdir', outdir, file]);
      expect(code, stderr).toBe(0);
      // cwltool --no-container: one Directory d holding a.txt (1 byte).
      const { all } = JSON.parse(stdout) as { all: { basename: string; path: string; listing: { basename: string; size: number }[] }[] };
      expect(all).toMatchObject([{ class: 'Directory', basename: 'd', path: path.join(dir, outdir, 'd'), listing: [{ basename: 'a.txt', size: 1 }] }]);
      expect(readFileSync(path.join(dir, outdir, 'd', 'a.txt'), 'utf8')).toBe('A');
    }
  });

  it('gives null for a required workflow output fed by a skipped conditional step', async () => {
    const wf = `cwlVersion: v1.2
class: Workflow
requirements: {InlineJavascriptRequirement: {}}
inputs: []
outputs:
  out: {type: string, outputSource: s/out}
steps:
  s:
    when: $(false)
    in: []
    out: [out]
    run:
      class: ExpressionTool
      inputs: []
      outputs: {out: string}
      expression: '$({out: "x"})'
`;
    const dir = folder({ 'wf.cwl': wf });
    const { code, stdout, stderr } = await archipelRun(dir, ['wf.cwl']);
    // cwltool --no-container: {"out": null}, exit 0 (its static checker only warns).
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ out: null });
  });

  it('refuses an unresolvable default File only when the job does not replace it', async () => {
    const tool = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\ninputs:\n  unused: {type: File, default: {class: File, location: does-not-exist.txt}}\noutputs: []\n';
    const dir = folder({ 'tool.cwl': tool, 'job.yml': 'unused: {class: File, location: real.txt}\n', 'real.txt': 'x\n' });
    // cwltool --no-container: "Input object failed validation: ... No such file or directory", exit 1.
    const alone = await archipelRun(dir, ['tool.cwl']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain(`unused: file not found: ${path.join(dir, 'does-not-exist.txt')}`);
    // cwltool --no-container: {}, exit 0.
    const replaced = await archipelRun(dir, ['tool.cwl', 'job.yml']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse(replaced.stdout)).toEqual({});
  });

  it('writes float and double inputs on the command line in decimal notation, never with an exponent', async () => {
    const tool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  f: {type: 'float[]', inputBinding: {position: 1}}
  d: {type: 'double[]', inputBinding: {position: 2}}
stdout: out.txt
outputs:
  out: {type: string, outputBinding: {glob: out.txt, loadContents: true, outputEval: '$(self[0].contents)'}}
`;
    const values = '[0.1, 1e-7, 1e21, 100000000000000000000.0, 1e16, 123456789.123, -0.0, 1.5e-5, 0.0001, 3]';
    const dir = folder({ 'tool.cwl': tool, 'job.yml': `f: ${values}\nd: ${values}\n` });
    const { code, stdout, stderr } = await archipelRun(dir, ['tool.cwl', 'job.yml']);
    expect(code, stderr).toBe(0);
    // cwltool --no-container writes Python's str(): 0.1 1e-07 1e+21 1e+20 1e+16 123456789.123 -0.0 1.5e-05 0.0001 3.
    // The specification wants decimals (conformance test very_big_and_very_floats_nojs, which cwltool fails).
    const decimal = '0.1 0.0000001 1000000000000000000000 100000000000000000000 10000000000000000 123456789.123 0 0.000015 0.0001 3';
    expect(JSON.parse(stdout)).toEqual({ out: `${decimal} ${decimal}\n` });
  });

  it('names the output, its glob patterns and the directory searched when a required output matched nothing', async () => {
    const tool = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [touch, other.txt]\ninputs: []\noutputs:\n  out: {type: File, outputBinding: {glob: ["*.csv", result.txt]}}\n';
    const dir = folder({ 'tool.cwl': tool });
    const { code, stderr } = await archipelRun(dir, ['tool.cwl']);
    // cwltool --no-container: "Error collecting output for parameter 'out': ... Did not find output file with glob pattern: ['*.csv', 'result.txt']", permanentFail.
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`out: no value for a required output: glob "\\*\\.csv", "result\\.txt" matched nothing in ${path.join(dir, 'work-')}\\w+/out`));
    noStackTrace(stderr);
  });
});
