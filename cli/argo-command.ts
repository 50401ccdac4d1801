import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { dump } from 'js-yaml';
import { InvalidInputError } from '../core/index.ts';
import { asWorkflow, loadCwlProcess, readJobFile, translateWorkflow } from '../orchestrator/index.ts';

/** `--place STEP=CLUSTER` options as a placement map, each checked for its shape. */
export function parsePlacements(values: string[]): Record<string, string> {
  const placement: Record<string, string> = {};
  for (const value of values) {
    const match = /^([^=]+)=([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(value);
    if (!match) throw new InvalidInputError(`--place ${value}: expected STEP=CLUSTER (a step path such as align or sub/align, and a cluster name or id)`);
    placement[match[1]!] = match[2]!;
  }
  return placement;
}

/** `archipel argo export`: prints the Argo Workflow a CWL workflow translates to. */
export function registerArgoCommand(program: Command) {
  const argo = program.command('argo').description('Argo Workflows: translate CWL workflows');
  argo
    .command('export')
    .description('print the Argo Workflow that runs a CWL workflow (or a single tool), with cross-cluster placement')
    .argument('<workflow>', 'the CWL document (optionally #id)')
    .argument('[job]', 'a job file: embedded as the Workflow\'s "job" parameter')
    .option('--place <step=cluster>', 'run a step on another cluster (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('--run-id <id>', 'the run id (object-store prefix runs/<id>); random by default')
    .option('--namespace <ns>', 'metadata.namespace of the Workflow')
    .action(async (workflow: string, jobFile: string | undefined, options: { place: string[]; output: string; runId?: string; namespace?: string }) => {
      if (options.output !== 'yaml' && options.output !== 'json') throw new InvalidInputError(`-o ${options.output}: expected yaml or json`);
      const cwd = process.cwd();
      const proc = await loadCwlProcess(workflow, cwd);
      const job = jobFile ? readJobFile(path.resolve(cwd, jobFile)).job : undefined;
      const manifest = translateWorkflow(asWorkflow(proc), {
        runId: options.runId ?? randomBytes(6).toString('hex'),
        placement: parsePlacements(options.place),
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(job ? { job } : {}),
      });
      process.stdout.write(options.output === 'json' ? `${JSON.stringify(manifest, null, 2)}\n` : dump(manifest, { lineWidth: 120, noRefs: true }));
    });
}
