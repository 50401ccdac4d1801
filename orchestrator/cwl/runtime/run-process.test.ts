import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExpressionError } from '../expressions/index.ts';
import { loadCwlProcess } from '../load/load-process.ts';
import { JobInputError, ProcessFailedError, UnsupportedRequirementError } from './cwl-errors.ts';
import { readJobFile, withJobRequirements } from './read-job.ts';
import { runProcess, type RunOptions } from './run-process.ts';

const root = mkdtempSync(path.join(tmpdir(), 'archipel-cwl-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  /** The folder holding the tool, the job's files and (under `out/`) the outputs. */
  dir: string;
  outdir: string;
  run(job?: Record<string, unknown>, options?: Partial<RunOptions>): Promise<Record<string, unknown>>;
}

// The loader caches the files it reads for the life of the process: each case gets a folder of its own.
let cases = 0;
async function tool(cwl: string, files: Record<string, string> = {}): Promise<Case> {
  const dir = path.join(root, String(cases++));
  for (const [name, text] of Object.entries({ 'tool.cwl': cwl, ...files })) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const process = await loadCwlProcess(path.join(dir, 'tool.cwl'));
  const outdir = path.join(dir, 'out');
  return {
    dir,
    outdir,
    run: (job = {}, options = {}) => runProcess(process, job, { outdir, jobDir: dir, tmpdirPrefix: path.join(dir, 'work-'), ...options }),
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected the run to fail, it gave ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

interface FileOutput {
  class: string;
  path: string;
  location: string;
  basename: string;
  checksum: string;
  size: number;
}
const file = (value: unknown): FileOutput => {
  expect(value).toMatchObject({ class: 'File', path: expect.any(String) });
  return value as FileOutput;
};
const text = (value: unknown) => readFileSync(file(value).path, 'utf8');
const sha1 = (data: string) => `sha1$${createHash('sha1').update(data).digest('hex')}`;

/**
 * The arguments a tool's command line passes, one per line: `printf '<%s>\n' ARGS...` writes each
 * argument in brackets (an empty one stays visible), captured from stdout.
 */
async function argv(header: string, inputs: string, job: Record<string, unknown>): Promise<string[]> {
  const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [printf, '<%s>\\n']
stdout: argv.txt
${header}
inputs:
${inputs}
outputs:
  out: stdout
`);
  const outputs = await c.run(job);
  return text(outputs.out)
    .split('\n')
    .filter(Boolean)
    .map((line) => /^<(.*)>$/.exec(line)?.[1] ?? `unexpected line ${line}`);
}

describe('runProcess: the command line', () => {
  it('orders arguments and inputs by position, then by input name, with prefixes, separate and itemSeparator', async () => {
    const args = await argv(
      `arguments:
  - valueFrom: middle
    position: 2
  - first`,
      `  verbose: {type: boolean, inputBinding: {prefix: -v, position: 1}}
  quiet: {type: boolean, inputBinding: {prefix: -q, position: 1}}
  name: {type: string, inputBinding: {prefix: --name=, separate: false, position: 3}}
  nums: {type: 'int[]', inputBinding: {prefix: -n, itemSeparator: ',', position: 4}}
  tags:
    type: {type: array, items: string, inputBinding: {prefix: -t}}
    inputBinding: {position: 5}
  spread: {type: 'string[]', inputBinding: {prefix: -s, position: 6}}
  absent: {type: 'string?', inputBinding: {prefix: --absent, position: 7}}
  unbound: string
  alpha: {type: string, inputBinding: {position: 3}}`,
      { verbose: true, quiet: false, name: 'bob', nums: [1, 2, 3], tags: ['x', 'y'], spread: ['a', 'b'], unbound: 'never shown', alpha: 'A' },
    );
    expect(args).toEqual(['first', '-v', 'middle', 'A', '--name=bob', '-n', '1,2,3', '-t', 'x', '-t', 'y', '-s', 'a', 'b']);
  });

  it('binds record fields by their own positions, under the record position', async () => {
    const args = await argv(
      '',
      `  before: {type: string, inputBinding: {position: 1}}
  options:
    type:
      type: record
      fields:
        level: {type: int, inputBinding: {prefix: --level, position: 2}}
        mode: {type: string, inputBinding: {prefix: --mode, position: 1}}
        note: {type: 'string?', inputBinding: {prefix: --note}}
    inputBinding: {position: 2}
  after: {type: string, inputBinding: {position: 3}}`,
      { before: 'B', options: { level: 9, mode: 'fast' }, after: 'Z' },
    );
    expect(args).toEqual(['B', '--mode', 'fast', '--level', '9', 'Z']);
  });

  it('passes arguments containing spaces and shell characters as single arguments, never through a shell', async () => {
    const args = await argv('', `  word: {type: string, inputBinding: {position: 1}}`, { word: 'a b; echo $HOME > x' });
    expect(args).toEqual(['a b; echo $HOME > x']);
  });

  it('runs the command through /bin/sh under ShellCommandRequirement, quoting all but shellQuote: false parts', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
requirements:
  ShellCommandRequirement: {}
inputs:
  word: {type: string, inputBinding: {position: 1}}
arguments:
  - {valueFrom: "printf '<%s>\\\\n'", shellQuote: false, position: 0}
  - {valueFrom: "&& printf '[%s]\\\\n' done", shellQuote: false, position: 2}
stdout: out.txt
outputs:
  out: stdout
`);
    const outputs = await c.run({ word: 'a b $HOME' });
    expect(text(outputs.out)).toBe('<a b $HOME>\n[done]\n');
  });
});

describe('runProcess: job inputs', () => {
  const typed = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [printf, '<%s>\\n']
inputs:
  count: {type: int, inputBinding: {position: 1}}
  name: {type: string, inputBinding: {position: 2}}
  flag: {type: boolean, inputBinding: {prefix: --flag, position: 3}}
  level: {type: int, default: 3, inputBinding: {prefix: --level, position: 4}}
  opt: {type: 'string?', inputBinding: {prefix: --opt, position: 5}}
stdout: out.txt
outputs:
  out: stdout
`;

  it('rejects a job with wrong types, naming every bad input, before running anything', async () => {
    const c = await tool(typed);
    const error = await failure(c.run({ count: 'three', name: 3 }));
    expect(error).toBeInstanceOf(JobInputError);
    const issues = (error as JobInputError).issues;
    expect(issues.map((i) => i.path).sort()).toEqual(['count', 'flag', 'name']);
    expect(issues.find((i) => i.path === 'count')?.message).toContain('expected int');
    expect(issues.find((i) => i.path === 'flag')?.message).toContain('missing');
    expect(error.message).toContain('count');
    expect(error.message).toContain('name');
    // Inputs with a default or a null type are not problems.
    expect(issues.some((i) => i.path === 'level' || i.path === 'opt')).toBe(false);
    expect(existsSync(c.outdir) && readdirSync(c.outdir).length).toBeFalsy();
  });

  it('uses defaults for inputs the job leaves out, and lets the job override them', async () => {
    const c = await tool(typed);
    const withDefault = await c.run({ count: 1, name: 'n', flag: false });
    expect(text(withDefault.out)).toBe('<1>\n<n>\n<--level>\n<3>\n');
    const overridden = await c.run({ count: 1, name: 'n', flag: true, level: 8, opt: 'o' });
    expect(text(overridden.out)).toBe('<1>\n<n>\n<--flag>\n<--level>\n<8>\n<--opt>\n<o>\n');
  });

  it('resolves File paths and locations in the job relative to the job directory', async () => {
    const c = await tool(
      `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  first: {type: File, inputBinding: {position: 1}}
  second: {type: File, inputBinding: {position: 2}}
stdout: joined.txt
outputs:
  joined: stdout
`,
      { 'data/one.txt': 'one\n', 'data/two.txt': 'two\n' },
    );
    const outputs = await c.run({ first: { class: 'File', path: 'data/one.txt' }, second: { class: 'File', location: 'data/two.txt' } });
    expect(text(outputs.joined)).toBe('one\ntwo\n');
  });

  it('reports a File input that does not exist', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
inputs:
  f: {type: File, inputBinding: {position: 1}}
outputs: []
`);
    const error = await failure(c.run({ f: { class: 'File', path: 'missing.txt' } }));
    expect(error).toBeInstanceOf(JobInputError);
    expect(error.message).toContain(path.join(c.dir, 'missing.txt'));
  });
});

describe('runProcess: outputs', () => {
  it('moves output files into outdir with their size and sha1 checksum, and leaves no working directory behind', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
requirements:
  ShellCommandRequirement: {}
arguments:
  - {valueFrom: "mkdir -p sub && printf 'hello\\\\n' > sub/greeting.txt && printf 'a' > a.log && printf 'bb' > b.log", shellQuote: false}
inputs: []
outputs:
  greeting:
    type: File
    outputBinding: {glob: sub/greeting.txt}
  logs:
    type: File[]
    outputBinding: {glob: '*.log'}
  missing:
    type: File?
    outputBinding: {glob: nothing-here.txt}
`);
    const outputs = await c.run();
    const greeting = file(outputs.greeting);
    expect(greeting).toMatchObject({
      basename: 'greeting.txt',
      path: path.join(c.outdir, 'greeting.txt'),
      location: `file://${path.join(c.outdir, 'greeting.txt')}`,
      size: 6,
      checksum: sha1('hello\n'),
    });
    expect(readFileSync(greeting.path, 'utf8')).toBe('hello\n');
    expect((outputs.logs as unknown[]).map((l) => [file(l).basename, file(l).size, file(l).checksum])).toEqual([
      ['a.log', 1, sha1('a')],
      ['b.log', 2, sha1('bb')],
    ]);
    expect(outputs.missing).toBeNull();
    expect(readdirSync(c.dir).filter((name) => name.startsWith('work-'))).toEqual([]);
  });

  it('gives every output its own copy when outputs name the same files', async () => {
    // A Directory output and File outputs globbing inside it, in either order: moving the files for
    // one output must not take them away from another.
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'mkdir result && echo A > result/a.txt']
inputs: []
outputs:
  before: {type: Directory, outputBinding: {glob: result}}
  file: {type: File, outputBinding: {glob: result/a.txt}}
  after: {type: Directory, outputBinding: {glob: result}}
  again: {type: File, outputBinding: {glob: result/a.txt}}
`);
    const outputs = await c.run();
    for (const id of ['file', 'again']) expect(text(outputs[id])).toBe('A\n');
    for (const id of ['before', 'after']) {
      const dir = outputs[id] as { path: string; listing: unknown[] };
      expect(dir.path.startsWith(c.outdir + path.sep)).toBe(true);
      expect(readFileSync(path.join(dir.path, 'a.txt'), 'utf8')).toBe('A\n');
      expect(dir.listing.map((f) => text(f))).toEqual(['A\n']);
    }
    const paths = ['before', 'file', 'after', 'again'].map((id) => (outputs[id] as { path: string }).path);
    expect(new Set(paths).size).toBe(4);
  });

  it('fails when a required output is not produced', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: 'true'
inputs: []
outputs:
  result:
    type: File
    outputBinding: {glob: result.txt}
`);
    const error = await failure(c.run());
    expect(error).toBeInstanceOf(ProcessFailedError);
    expect(error.message).toContain('result');
  });

  it('captures stdout and stderr into the files the tool names', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo to-out; echo to-err >&2']
stdout: out.txt
stderr: err.txt
inputs: []
outputs:
  out: stdout
  err: stderr
`);
    const outputs = await c.run();
    expect(file(outputs.out).basename).toBe('out.txt');
    expect(text(outputs.out)).toBe('to-out\n');
    expect(file(outputs.err).basename).toBe('err.txt');
    expect(text(outputs.err)).toBe('to-err\n');
  });

  it('gives `type: stdout` outputs a file even when the tool names none', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: [echo, hi]
inputs: []
outputs:
  out: stdout
`);
    const outputs = await c.run();
    expect(text(outputs.out)).toBe('hi\n');
    expect(path.dirname(file(outputs.out).path)).toBe(c.outdir);
  });
});

describe('runProcess: InitialWorkDirRequirement', () => {
  const job = (dir: string) => ({ input: { class: 'File', path: path.join(dir, 'input.txt') }, name: 'world' });

  it('writes text entries with expressions into the working directory', async () => {
    const c = await tool(
      `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: config.txt
        entry: |
          hello $(inputs.name)
baseCommand: [cat, config.txt]
inputs:
  name: string
stdout: out.txt
outputs:
  out: stdout
`,
    );
    expect(text((await c.run({ name: 'world' })).out)).toBe('hello world\n');
  });

  it('stages input files under their own name or the entryname given', async () => {
    const c = await tool(
      `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement:
    listing:
      - $(inputs.input)
      - entryname: renamed.txt
        entry: $(inputs.input)
baseCommand: [cat, input.txt, renamed.txt]
inputs:
  input: File
  name: string
stdout: out.txt
outputs:
  out: stdout
`,
      { 'input.txt': 'original\n' },
    );
    expect(text((await c.run(job(c.dir))).out)).toBe('original\noriginal\n');
  });

  it('gives a writable entry a copy: the tool may change it, the input stays as it was', async () => {
    const c = await tool(
      `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement:
    listing:
      - entry: $(inputs.input)
        writable: true
baseCommand: [sh, -c, 'echo appended >> input.txt']
inputs:
  input: File
  name: string
outputs:
  changed:
    type: File
    outputBinding: {glob: input.txt}
`,
      { 'input.txt': 'original\n' },
    );
    const outputs = await c.run(job(c.dir));
    expect(text(outputs.changed)).toBe('original\nappended\n');
    expect(readFileSync(path.join(c.dir, 'input.txt'), 'utf8')).toBe('original\n');
  });
});

describe('runProcess: environment and exit codes', () => {
  it('sets the EnvVarRequirement variables, with expressions', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
requirements:
  EnvVarRequirement:
    envDef:
      GREETING: hello $(inputs.name)
      PLAIN: fixed
baseCommand: [printenv, GREETING, PLAIN]
inputs:
  name: string
stdout: env.txt
outputs:
  env: stdout
`);
    expect(text((await c.run({ name: 'world' })).env)).toBe('hello world\nfixed\n');
  });

  const exiting = (code: number, codes: string) => `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'echo ran > ran.txt; exit ${code}']
${codes}
inputs: []
outputs:
  ran:
    type: File
    outputBinding: {glob: ran.txt}
`;

  it('fails with a non-zero exit code, naming it', async () => {
    const error = await failure((await tool(exiting(2, ''))).run());
    expect(error).toBeInstanceOf(ProcessFailedError);
    expect((error as ProcessFailedError).status).toBe('permanentFail');
    expect(error.message).toContain('exited with 2');
  });

  it('accepts the exit codes listed in successCodes', async () => {
    const outputs = await (await tool(exiting(3, 'successCodes: [0, 3]'))).run();
    expect(text(outputs.ran)).toBe('ran\n');
  });

  it('fails on permanentFailCodes even when they are also success codes, and marks temporaryFailCodes', async () => {
    const permanent = await failure((await tool(exiting(0, 'permanentFailCodes: [0]'))).run());
    expect(permanent).toBeInstanceOf(ProcessFailedError);
    expect((permanent as ProcessFailedError).status).toBe('permanentFail');

    const temporary = await failure((await tool(exiting(75, 'temporaryFailCodes: [75]'))).run());
    expect(temporary).toBeInstanceOf(ProcessFailedError);
    expect((temporary as ProcessFailedError).status).toBe('temporaryFail');
  });

  it('reports a command that does not exist', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: archipel-no-such-command
inputs: []
outputs: []
`);
    const error = await failure(c.run());
    expect(error).toBeInstanceOf(ProcessFailedError);
    expect(error.message).toContain('archipel-no-such-command');
  });

  it('kills a tool that overruns its ToolTimeLimit', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
requirements:
  ToolTimeLimit: {timelimit: 1}
baseCommand: [sleep, '10']
inputs: []
outputs: []
`);
    const started = Date.now();
    const error = await failure(c.run());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ProcessFailedError);
    expect(error.message).toContain('time limit');
  });
});

describe('runProcess: ExpressionTool and expressions', () => {
  it('runs an ExpressionTool and returns its outputs', async () => {
    const c = await tool(`cwlVersion: v1.2
class: ExpressionTool
requirements:
  InlineJavascriptRequirement: {}
inputs:
  a: int
  b: int
outputs:
  sum: int
  words: string[]
expression: |
  \${ return {sum: inputs.a + inputs.b, words: ["x", String(inputs.a)]}; }
`);
    expect(await c.run({ a: 2, b: 40 })).toEqual({ sum: 42, words: ['x', '2'] });
  });

  it('writes File literals an ExpressionTool returns into outdir', async () => {
    const c = await tool(`cwlVersion: v1.2
class: ExpressionTool
requirements:
  InlineJavascriptRequirement: {}
inputs:
  name: string
outputs:
  made: File
expression: |
  \${ return {made: {class: "File", basename: inputs.name + ".txt", contents: "made by js"}}; }
`);
    const outputs = await c.run({ name: 'note' });
    expect(file(outputs.made)).toMatchObject({ basename: 'note.txt', path: path.join(c.outdir, 'note.txt'), size: 10, checksum: sha1('made by js') });
    expect(text(outputs.made)).toBe('made by js');
  });

  it('refuses an int outside 32 bits and a long JavaScript cannot carry exactly, naming the input', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  n: {type: int, inputBinding: {position: 1}}
  big: {type: long, default: 1, inputBinding: {position: 2}}
  many: {type: 'int[]', default: [], inputBinding: {position: 3}}
outputs: []
`);
    // YAML's 99999999999999999999999 arrives as the number 1e+23, which is an integer to JavaScript.
    writeFileSync(path.join(c.dir, 'job.yml'), 'n: 99999999999999999999999\n');
    const huge = await failure(c.run(readJobFile(path.join(c.dir, 'job.yml')).job));
    expect(huge).toBeInstanceOf(JobInputError);
    expect(huge.message).toBe('invalid job: n: 1e+23 is not an int (−2^31..2^31−1)');
    expect((await failure(c.run({ n: 2 ** 31 }))).message).toBe('invalid job: n: 2147483648 is not an int (−2^31..2^31−1)');
    expect((await failure(c.run({ n: 1.5 }))).message).toBe('invalid job: n: 1.5 is not an int (a whole number)');
    expect((await failure(c.run({ n: 1, big: 2 ** 53 }))).message).toMatch(/^invalid job: big: 9007199254740992 is not a long that can be carried exactly \(at most ±2\^53−1/);
    expect((await failure(c.run({ n: 1, many: [1, 2 ** 40] }))).message).toBe('invalid job: many: [1]: 1099511627776 is not an int (−2^31..2^31−1)');
    // The limits themselves are fine.
    await c.run({ n: -(2 ** 31), big: Number.MAX_SAFE_INTEGER, many: [2 ** 31 - 1] });
  });

  it('fails an ExpressionTool whose result does not match its output types', async () => {
    const c = await tool(`cwlVersion: v1.2
class: ExpressionTool
requirements:
  InlineJavascriptRequirement: {}
inputs: []
outputs:
  n: int
expression: '$({n: "not a number"})'
`);
    const error = await failure(c.run());
    expect(error).toBeInstanceOf(ProcessFailedError);
    expect(error.message).toContain('n: expected int');
  });

  it('stops an expression that never ends, with an error saying it timed out', async () => {
    const c = await tool(`cwlVersion: v1.2
class: ExpressionTool
requirements:
  InlineJavascriptRequirement: {}
inputs: []
outputs:
  x: int
expression: '\${ while (true) {} }'
`);
    const started = Date.now();
    const error = await failure(c.run({}, { expressionTimeoutMs: 300 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as ExpressionError).reason).toBe('timeout');
    expect(error.message).toContain('timed out after 300 ms');
  });

  it('names the document and the field of a failing expression, and refuses a Promise', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
requirements:
  InlineJavascriptRequirement: {}
baseCommand: echo
inputs: []
outputs:
  later:
    type: Any
    outputBinding: {outputEval: '\${ return Promise.resolve(1); }'}
`);
    const error = await failure(c.run());
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error.message).toBe(
      `${path.join(c.dir, 'tool.cwl')}: outputs.later.outputBinding.outputEval: expression returned a Promise; CWL expressions must be synchronous: \${ return Promise.resolve(1); }`,
    );
    const memory = await tool(`cwlVersion: v1.2
class: ExpressionTool
requirements:
  InlineJavascriptRequirement: {}
inputs: []
outputs: {x: Any}
expression: '\${ var s = []; for (var i = 0; ; i++) s.push({a: i, b: [i]}); }'
`);
    const oom = await failure(memory.run());
    expect(oom.message).toMatch(new RegExp(`^${path.join(memory.dir, 'tool.cwl').replace(/[.*+?^$()|[\]\\/]/g, '\\$&')}: expression: expression ran out of memory \\(limit 256 MiB\\)`));
  });

  it('applies the expression timeout to command-line tools too', async () => {
    const c = await tool(`cwlVersion: v1.2
class: CommandLineTool
requirements:
  InlineJavascriptRequirement: {}
baseCommand: echo
arguments: ['\${ for (;;) {} }']
inputs: []
outputs: []
`);
    const error = await failure(c.run({}, { expressionTimeoutMs: 300 }));
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as ExpressionError).reason).toBe('timeout');
  });
});

describe('runProcess: requirements', () => {
  const body = `cwlVersion: v1.2
class: CommandLineTool
$namespaces:
  ex: http://example.com/cwl#
hints:
  ex:QuantumHint: {qubits: 4}
  ResourceRequirement: {coresMin: 1}
baseCommand: [echo, ok]
inputs: []
stdout: out.txt
outputs:
  out: stdout
`;

  it('ignores hints it does not know', async () => {
    expect(text((await (await tool(body)).run()).out)).toBe('ok\n');
  });

  it('refuses to run a process that requires something it does not support', async () => {
    // A requirement the loader accepts but this runner cannot meet: one added by a job's cwl:requirements.
    const c = await tool(body);
    const process = withJobRequirements(await loadCwlProcess(path.join(c.dir, 'tool.cwl')), [{ class: 'QuantumRequirement', qubits: 4 }]);
    const error = await failure(runProcess(process, {}, { outdir: c.outdir, jobDir: c.dir, tmpdirPrefix: path.join(c.dir, 'work-') }));
    expect(error).toBeInstanceOf(UnsupportedRequirementError);
    expect(error.message).toContain('QuantumRequirement');
    expect(existsSync(c.outdir) && readdirSync(c.outdir).length).toBeFalsy();
  });
});

describe('runProcess: input directories are never taken away', () => {
  // Regression: outputs found inside a copy or a symlink of an input Directory were moved into
  // outdir, emptying the user's input folder.
  const inputDir = (dir: string) => ({ dir: { class: 'Directory', path: path.join(dir, 'samples') } });
  const samples = { 'samples/a.txt': 'A\n', 'samples/b.txt': 'B\n' };

  it.each([
    ['copies', 'cp -r'],
    ['links', 'ln -s'],
  ])('keeps the input files when the tool %s the directory into its outputs', async (_what, command) => {
    const [cmd, flag] = command.split(' ');
    const c = await tool(
      `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [${cmd}, '${flag}']
arguments:
  - {valueFrom: $(inputs.dir.path), position: 1}
  - {valueFrom: result, position: 2}
inputs:
  dir: Directory
outputs:
  files:
    type: File[]
    outputBinding: {glob: 'result/*.txt'}
  folder:
    type: Directory
    outputBinding: {glob: result}
`,
      samples,
    );
    const outputs = await c.run(inputDir(c.dir));
    expect((outputs.files as unknown[]).map((f) => [file(f).basename, text(f)])).toEqual([
      ['a.txt', 'A\n'],
      ['b.txt', 'B\n'],
    ]);
    for (const f of outputs.files as unknown[]) expect(file(f).path.startsWith(c.outdir + path.sep)).toBe(true);
    expect(readFileSync(path.join(c.dir, 'samples/a.txt'), 'utf8')).toBe('A\n');
    expect(readFileSync(path.join(c.dir, 'samples/b.txt'), 'utf8')).toBe('B\n');
    expect(readdirSync(path.join(c.dir, 'samples')).sort()).toEqual(['a.txt', 'b.txt']);
  });
});
