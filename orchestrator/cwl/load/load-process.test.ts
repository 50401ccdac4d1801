import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/index.ts';
import type { CommandLineTool, CwlType, Process, RecordType } from '../model.ts';
import { CwlLoadError } from './cwl-load-error.ts';
import { loadCwlProcess } from './load-process.ts';

const root = mkdtempSync(path.join(tmpdir(), 'archipel-cwl-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The loader caches files it has read for the life of the process, so every test writes into a folder
// of its own rather than rewriting a file an earlier test loaded.
let folders = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(root, String(folders++));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Writes the files and loads `reference` (a file name, optionally with `#id`) from their folder. */
async function load(files: Record<string, string>, reference = 'tool.cwl'): Promise<Process> {
  return loadCwlProcess(reference, folder(files));
}

async function loadError(files: Record<string, string>, reference = 'tool.cwl'): Promise<CwlLoadError> {
  const dir = folder(files);
  const error: unknown = await loadCwlProcess(reference, dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CwlLoadError);
  return error as CwlLoadError;
}

const tool = (inputs: string, outputs = 'outputs: []', extra = '') =>
  `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n${extra}inputs:\n${inputs}\n${outputs}\n`;

const asTool = (p: Process): CommandLineTool => {
  expect(p.class).toBe('CommandLineTool');
  return p as CommandLineTool;
};
const input = (p: Process, id: string) => {
  const found = p.inputs.find((i) => i.id === id);
  if (!found) throw new Error(`no input ${id}; inputs are ${p.inputs.map((i) => i.id).join(', ')}`);
  return found;
};

describe('loadCwlProcess: shorthands', () => {
  it('expands `T?` and `T[]` type shorthands', async () => {
    const p = await load({
      'tool.cwl': tool(`  maybe: File?\n  names: string[]\n  maybeNames: string[]?\n  plain: int`),
    });
    expect(input(p, 'maybe').type).toEqual(['null', 'File']);
    expect(input(p, 'names').type).toEqual({ type: 'array', items: 'string' });
    expect(input(p, 'maybeNames').type).toEqual(['null', { type: 'array', items: 'string' }]);
    expect(input(p, 'plain').type).toBe('int');
  });

  it('reads inputs, outputs and requirements in map form the same as in list form', async () => {
    const mapForm = await load({
      'tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
requirements:
  EnvVarRequirement:
    envDef: {GREETING: hello}
  ShellCommandRequirement: {}
inputs:
  name: string
  count:
    type: int
    default: 2
    inputBinding: {prefix: -n, position: 1}
outputs:
  result:
    type: File
    outputBinding: {glob: out.txt}
`,
    });
    const listForm = await load({
      'tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
baseCommand: cat
requirements:
  - class: EnvVarRequirement
    envDef: {GREETING: hello}
  - class: ShellCommandRequirement
inputs:
  - id: name
    type: string
  - id: count
    type: int
    default: 2
    inputBinding: {prefix: -n, position: 1}
outputs:
  - id: result
    type: File
    outputBinding: {glob: out.txt}
`,
    });
    for (const p of [mapForm, listForm]) {
      expect(p.inputs).toEqual([
        { id: 'name', type: 'string' },
        { id: 'count', type: 'int', default: 2, inputBinding: { prefix: '-n', position: 1 } },
      ]);
      expect(p.outputs).toEqual([{ id: 'result', type: 'File', outputBinding: { glob: 'out.txt' } }]);
      expect(p.requirements).toEqual([{ class: 'EnvVarRequirement', envDef: { GREETING: 'hello' } }, { class: 'ShellCommandRequirement' }]);
    }
  });

  it('turns `type: stdout` and `type: stderr` outputs into Files globbing the captured stream', async () => {
    const named = asTool(
      await load({ 'tool.cwl': tool('  x: string', 'outputs:\n  out: stdout\n  err: stderr', 'stdout: result.txt\n') }),
    );
    expect(named.stdout).toBe('result.txt');
    expect(named.outputs.find((o) => o.id === 'out')).toEqual({ id: 'out', type: 'File', outputBinding: { glob: 'result.txt' } });

    // Unnamed streams get a generated file name, which the output globs.
    const err = named.outputs.find((o) => o.id === 'err');
    expect(err?.type).toBe('File');
    expect(named.stderr).toEqual(expect.any(String));
    expect(err?.outputBinding?.glob).toBe(named.stderr);
  });
});

describe('loadCwlProcess: $import and $include', () => {
  it('resolves both relative to the file that holds the directive', async () => {
    const p = await load(
      {
        'tools/tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: script.sh
        entry:
          $include: scripts/script.sh
inputs:
  $import: parts/inputs.yml
outputs: []
`,
        'tools/scripts/script.sh': 'echo from the include\n',
        'tools/parts/inputs.yml': 'name: string\nextra:\n  $import: extra.yml\n',
        'tools/parts/extra.yml': 'type: int\ndefault: 7\n',
      },
      'tools/tool.cwl',
    );
    expect(p.inputs).toEqual([
      { id: 'name', type: 'string' },
      { id: 'extra', type: 'int', default: 7 },
    ]);
    const iwd = p.requirements.find((r) => r.class === 'InitialWorkDirRequirement');
    expect(iwd?.listing).toEqual([{ entryname: 'script.sh', entry: 'echo from the include\n' }]);
  });

  it('reports an $include of a missing file, naming the including file', async () => {
    const error = await loadError({
      'tool.cwl': tool('  x: string', 'outputs: []', 'doc:\n  $include: nowhere.txt\n'),
    });
    expect(error.message).toContain('tool.cwl');
    expect(error.message).toContain('nowhere.txt');
  });
});

describe('loadCwlProcess: $graph documents', () => {
  const packed = `cwlVersion: v1.2
$graph:
  - id: main
    class: CommandLineTool
    baseCommand: echo
    inputs: {a: string}
    outputs: []
  - id: helper
    class: ExpressionTool
    requirements: {InlineJavascriptRequirement: {}}
    inputs: {b: int}
    outputs: {c: int}
    expression: "$({c: inputs.b})"
`;

  it('runs #main when no id is given', async () => {
    const p = await load({ 'packed.cwl': packed }, 'packed.cwl');
    expect(p.class).toBe('CommandLineTool');
    expect(p.id).toBe('main');
    expect(p.inputs.map((i) => i.id)).toEqual(['a']);
  });

  it('picks the process named by the fragment', async () => {
    const p = await load({ 'packed.cwl': packed }, 'packed.cwl#helper');
    expect(p.class).toBe('ExpressionTool');
    expect(p.id).toBe('helper');
    expect(p.outputs.map((o) => o.id)).toEqual(['c']);
  });

  it('lists the available ids when the fragment names none of them', async () => {
    const error = await loadError({ 'packed.cwl': packed }, 'packed.cwl#nope');
    expect(error.message).toContain('#nope');
    expect(error.message).toContain('#main');
    expect(error.message).toContain('#helper');
  });
});

describe('loadCwlProcess: SchemaDefRequirement', () => {
  const fields = (t: CwlType) => (t as RecordType).fields.map((f) => [f.name, f.type]);

  it('resolves named record and enum types, including ones that refer to each other', async () => {
    const p = await load({
      'tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
requirements:
  SchemaDefRequirement:
    types:
      - name: Sample
        type: record
        fields:
          id: string
          kind: Kind
      - name: Kind
        type: enum
        symbols: [tumour, normal]
inputs:
  sample: Sample
  samples: Sample[]
outputs: []
`,
    });
    const sample = input(p, 'sample').type as RecordType;
    expect(sample.type).toBe('record');
    expect(sample.name).toBe('Sample');
    expect(fields(sample)).toEqual([
      ['id', 'string'],
      ['kind', { type: 'enum', name: 'Kind', symbols: ['tumour', 'normal'] }],
    ]);
    expect(input(p, 'samples').type).toEqual({ type: 'array', items: sample });
  });

  it('resolves types defined in an $imported file, referred to as file#name', async () => {
    const p = await load({
      'tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
requirements:
  SchemaDefRequirement:
    types:
      - $import: schemas/capture.yml
inputs:
  kit: schemas/capture.yml#capture_kit
outputs: []
`,
      'schemas/capture.yml': 'name: capture_kit\ntype: record\nfields:\n  bait: string\n',
    });
    const kit = input(p, 'kit').type as RecordType;
    expect(kit.type).toBe('record');
    expect(fields(kit)).toEqual([['bait', 'string']]);
  });
});

describe('loadCwlProcess: formats', () => {
  it('expands namespace prefixes in formats to full IRIs', async () => {
    const p = await load({
      'tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
$namespaces:
  edam: http://edamontology.org/
baseCommand: cat
inputs:
  reads:
    type: File
    format: edam:format_1930
outputs:
  out:
    type: File
    format: edam:format_2572
    outputBinding: {glob: out.bam}
`,
    });
    expect(p.namespaces).toEqual({ edam: 'http://edamontology.org/' });
    expect(input(p, 'reads').format).toBe('http://edamontology.org/format_1930');
    expect(p.outputs[0]?.format).toBe('http://edamontology.org/format_2572');
  });
});

describe('loadCwlProcess: errors', () => {
  it('reports malformed YAML as an invalid-input error naming the file and line', async () => {
    const error = await loadError({
      'tool.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs:\n  x: string\n   y: int\noutputs: []\n',
    });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.kind).toBe('invalid-input');
    expect(error.message).toMatch(/tool\.cwl:5:\d+: not valid YAML/);
    expect(error.issues[0]).toMatchObject({ line: 5, column: expect.any(Number), file: expect.stringMatching(/tool\.cwl$/) });
  });

  it('rejects an unknown process class', async () => {
    const error = await loadError({ 'tool.cwl': 'cwlVersion: v1.2\nclass: CommandLinTool\ninputs: []\noutputs: []\n' });
    expect(error.message).toContain('tool.cwl');
    // Says which classes a process may have.
    expect(error.message).toContain('CommandLineTool');
  });

  it('rejects a process without inputs', async () => {
    const error = await loadError({ 'tool.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\noutputs: []\n' });
    expect(error.message).toContain('inputs');
  });

  it('rejects a type name that is neither a CWL type nor a schema definition', async () => {
    const error = await loadError({ 'tool.cwl': tool('  x: Strnig') });
    expect(error.message).toContain('unknown type "Strnig"');
    // The issue points at the input that uses it.
    expect(error.issues[0]?.path).toMatch(/^inputs\b.*\bx\b.*type$/);
  });

  it('rejects v1.2-only features in a v1.0 document', async () => {
    const fractional = await loadError({
      'tool.cwl': 'cwlVersion: v1.0\nclass: CommandLineTool\nbaseCommand: echo\nrequirements:\n  ResourceRequirement: {coresMin: 0.5}\ninputs: []\noutputs: []\n',
    });
    expect(fractional.message).toContain('ResourceRequirement.coresMin');
    expect(fractional.message).toContain('v1.2');

    const patterns = await loadError({
      'tool.cwl': `cwlVersion: v1.0
class: CommandLineTool
baseCommand: echo
inputs:
  reads:
    type: File
    secondaryFiles: [{pattern: .bai}]
outputs: []
`,
    });
    expect(patterns.message).toContain('secondaryFiles');
    expect(patterns.message).toContain('v1.0');

    // The same features load under v1.2.
    const ok = await load({
      'tool.cwl': `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
requirements:
  ResourceRequirement: {coresMin: 0.5}
inputs:
  reads:
    type: File
    secondaryFiles: [{pattern: .bai, required: false}]
outputs: []
`,
    });
    expect(input(ok, 'reads').secondaryFiles).toEqual([{ pattern: '.bai', required: false }]);
  });

  it('refuses a workflow that runs itself, directly or through another file, naming the files and step fields', async () => {
    const wf = (steps: string) => `cwlVersion: v1.2\nclass: Workflow\nrequirements: {SubworkflowFeatureRequirement: {}}\ninputs: []\noutputs: []\nsteps:\n${steps}`;
    const self = await loadError({ 'self.cwl': wf('  again: {run: self.cwl, in: {}, out: []}\n') }, 'self.cwl');
    expect(self).toBeInstanceOf(InvalidInputError);
    expect(self.message).toMatch(/self\.cwl:7:16: steps\[0\]\.run: a workflow cannot run itself, directly or through other files: self\.cwl steps\[0\]\.run → self\.cwl$/);
    expect(self.issues[0]).toMatchObject({ path: 'steps[0].run', line: 7, column: 16 });

    const tool = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: "true"\ninputs: []\noutputs: []\n';
    const through = await loadError(
      {
        'tool.cwl': tool,
        'a.cwl': wf('  first: {run: tool.cwl, in: {}, out: []}\n  inner: {run: sub/b.cwl, in: {}, out: []}\n'),
        'sub/b.cwl': wf('  - id: back\n    run: ../a.cwl\n    in: []\n    out: []\n'),
      },
      'a.cwl',
    );
    expect(through.message).toContain(`${path.join(path.dirname(through.issues[0]!.file!), 'b.cwl')}`);
    expect(through.message).toMatch(/steps\[0\]\.run: a workflow cannot run itself, directly or through other files: a\.cwl steps\[1\]\.run → sub\/b\.cwl steps\[0\]\.run → a\.cwl$/);

    // A tool run by several steps, or by nested workflows, is no cycle.
    const shared = await load(
      { 'tool.cwl': tool, 'sub.cwl': wf('  t: {run: tool.cwl, in: {}, out: []}\n'), 'main.cwl': wf('  a: {run: tool.cwl, in: {}, out: []}\n  b: {run: sub.cwl, in: {}, out: []}\n  c: {run: sub.cwl, in: {}, out: []}\n') },
      'main.cwl',
    );
    expect(shared.class).toBe('Workflow');
  });

  it('refuses steps that wait for each other’s outputs, naming them by their CWL ids and lines', async () => {
    const echo = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs: {x: Any?}\noutputs: {y: Any}\n';
    const wf = (steps: string) => `cwlVersion: v1.2\nclass: Workflow\ninputs: {start: string}\noutputs: []\nsteps:\n${steps}`;
    const cycle = await loadError(
      {
        'echo.cwl': echo,
        'wf.cwl': wf(`  first:
    run: echo.cwl
    in: {x: start}
    out: [y]
  fetch_Data:
    run: echo.cwl
    in:
      x: [first/y, align/y]
    out: [y]
  align:
    run: echo.cwl
    in: {x: fetch_Data/y}
    out: [y]
`),
      },
      'wf.cwl',
    );
    expect(cycle).toBeInstanceOf(InvalidInputError);
    expect(cycle.message).toMatch(
      /wf\.cwl:13:10: steps: the steps wait for each other’s outputs in a cycle, so none of them can start: fetch_Data \(in\.x: align\/y\) → align \(in\.x: fetch_Data\/y\) → fetch_Data$/,
    );
    // Each at the source of the input that waits, in block and flow style alike.
    expect(cycle.issues.map((i) => [i.path, i.line, i.column])).toEqual([
      ['steps.fetch_Data.in.x', 13, 10],
      ['steps.align.in.x', 17, 13],
    ]);

    const own = await loadError({ 'echo.cwl': echo, 'wf.cwl': wf('  - id: again\n    run: echo.cwl\n    in: [{id: x, source: "#again/y"}]\n    out: [y]\n') }, 'wf.cwl');
    expect(own.message).toMatch(/steps: step again waits for its own output: again \(in\.x: #again\/y\) → again$/);

    // Several steps reading one step's output, and reading each other in one direction, are fine.
    const diamond = await load(
      { 'echo.cwl': echo, 'wf.cwl': wf('  a: {run: echo.cwl, in: {x: start}, out: [y]}\n  b: {run: echo.cwl, in: {x: a/y}, out: [y]}\n  c: {run: echo.cwl, in: {x: [a/y, b/y]}, out: [y]}\n') },
      'wf.cwl',
    );
    expect(diamond.class).toBe('Workflow');
  });

  it('refuses a $graph workflow that runs itself by #id', async () => {
    const packed = `cwlVersion: v1.2
$graph:
  - id: main
    class: Workflow
    requirements: {SubworkflowFeatureRequirement: {}}
    inputs: []
    outputs: []
    steps:
      loop: {run: '#main', in: {}, out: []}
`;
    const error = await loadError({ 'packed.cwl': packed }, 'packed.cwl');
    expect(error.message).toMatch(/steps\[0\]\.run: a workflow cannot run itself, directly or through other files: packed\.cwl steps\[0\]\.run → packed\.cwl$/);
  });

  describe('a bad field deep in a workflow: at its own line and column, named by its path with indices or ids', () => {
    const files = (steps: string) => ({
      'tool.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs:\n  reads: File\noutputs: []\n',
      'wf.cwl': `cwlVersion: v1.2\nclass: Workflow\ninputs:\n  x: File\noutputs: []\nsteps:\n${steps}`,
    });

    it('an unknown field of a step in list form', async () => {
      const error = await loadError(
        files(`  - id: first
    run: tool.cwl
    in: {reads: x}
    out: []
  - id: align
    run: tool.cwl
    in:
      reads: x
    out: []
    scater: reads
`),
        'wf.cwl',
      );
      expect(error.message).toMatch(/wf\.cwl:16:5: steps\[1\] \(id: align\)\.scater: unknown field "scater" \(did you mean "scatter"\?\)$/);
      expect(error.issues[0]).toMatchObject({ path: 'steps[1] (id: align).scater', line: 16, column: 5 });
    });

    it('an unknown field of a step in map form', async () => {
      const error = await loadError(
        files(`  first:
    run: tool.cwl
    in: {reads: x}
    out: []
  align:
    run: tool.cwl
    in: {reads: x}
    out: []
    scater: reads
`),
        'wf.cwl',
      );
      expect(error.message).toMatch(/wf\.cwl:15:5: steps\.align\.scater: unknown field "scater" \(did you mean "scatter"\?\)$/);
      expect(error.issues[0]).toMatchObject({ path: 'steps.align.scater', line: 15, column: 5 });
    });

    it('an unknown field inside an inline run: tool', async () => {
      const error = await loadError(
        files(`  first:
    run: tool.cwl
    in: {reads: x}
    out: []
  align:
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        reads:
          tpye: File
      outputs: []
    in: {reads: x}
    out: []
`),
        'wf.cwl',
      );
      expect(error.message).toMatch(/wf\.cwl:17:11: steps\.align\.run\.inputs\.reads\.tpye: unknown field "tpye" \(did you mean "type"\?\)/);
      expect(error.issues[0]).toMatchObject({ path: 'steps.align.run.inputs.reads.tpye', line: 17, column: 11 });
      // The misspelt key is also why the required one is missing.
      expect(error.issues[1]).toMatchObject({ path: 'steps.align.run.inputs.reads', message: 'missing required field "type"' });
    });

    it('a value of the wrong type, at the value', async () => {
      const error = await loadError(
        files(`  - id: first
    run: tool.cwl
    in: {reads: x}
    out: []
  - id: align
    run:
      class: CommandLineTool
      baseCommand: echo
      stdout: 42
      inputs: {reads: File}
      outputs: []
    in: {reads: x}
    out: []
`),
        'wf.cwl',
      );
      expect(error.message).toMatch(/wf\.cwl:15:15: steps\[1\] \(id: align\)\.run\.stdout: expected a String but got number$/);
      expect(error.issues[0]).toMatchObject({ path: 'steps[1] (id: align).run.stdout', line: 15, column: 15 });
    });

    it('an unknown type inside an inline run:, found by the loader itself', async () => {
      const error = await loadError(
        files(`  align:
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        reads: Fiel
      outputs: []
    in: {reads: x}
    out: []
`),
        'wf.cwl',
      );
      expect(error.message).toMatch(/wf\.cwl:12:16: steps\[0\]\.run\.inputs\.reads\.type: unknown type "Fiel"$/);
      expect(error.issues[0]).toMatchObject({ line: 12, column: 16 });
    });
  });

  it('reports a missing file by name', async () => {
    const dir = folder({});
    const error: unknown = await loadCwlProcess('absent.cwl', dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CwlLoadError);
    expect((error as Error).message).toContain(path.join(dir, 'absent.cwl'));
    expect((error as Error).message).toContain('ENOENT');
  });

  it('remembers documents that passed the structure check, and only those', async () => {
    const added: string[] = [];
    const cache = { has: (key: string) => added.includes(key), add: (key: string) => void added.push(key) };
    const dir = folder({
      'good.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseCommand: echo\n',
      'bad.cwl': 'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseCommand: echo\nstdout: 42\n',
    });
    await loadCwlProcess('good.cwl', dir, { structureCache: cache });
    expect(added).toHaveLength(1);
    await loadCwlProcess('good.cwl', dir, { structureCache: cache });
    expect(added).toHaveLength(1);
    await expect(loadCwlProcess('bad.cwl', dir, { structureCache: cache })).rejects.toThrow(/stdout: expected a String but got number/);
    expect(added).toHaveLength(1);
    // A cache that vouches for a document skips the check: the key must cover the whole content.
    const trusting = { has: () => true, add: () => undefined };
    await expect(loadCwlProcess('bad.cwl', dir, { structureCache: trusting })).resolves.toMatchObject({ class: 'CommandLineTool' });
  });
});
