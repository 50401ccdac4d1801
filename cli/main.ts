import { Option, type Command } from 'commander';
import { createLogger } from '../platform/logging/index.ts';
import type { ConfigFlags } from './config.ts';
import { createProgram, runProgram } from './program.ts';
import { registerArgoCommand } from './argo-command.ts';
import { registerClientCommands } from './client-commands.ts';
import { registerRunCommand } from './run-command.ts';
import { registerStepCommand } from './step-command.ts';
import { registerSwarmKeyCommand } from './swarm-key-command.ts';

async function up(flags: ConfigFlags) {
  // Each command loads only what it uses: `run` must start fast, and the node pulls in every adapter.
  const [{ loadConfig }, { startNode }] = await Promise.all([import('./config.ts'), import('./node.ts')]);
  const config = loadConfig(flags, process.env, process.cwd());
  const format = config.log.format === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'json') : config.log.format;
  const logger = createLogger({ level: config.log.level, format });
  const node = await startNode(config, logger);

  const lines = [
    `Archipel node "${node.name}" is up`,
    `  portal:   ${node.url}/`,
    `  API:      ${node.url}/api/v1  (OpenAPI: ${node.url}/api/v1/openapi.json)`,
    `  health:   ${node.url}/healthz`,
    `  data:     ${node.dataDir}`,
    `  database: ${node.database}`,
    `  cluster:  ${node.clusterId}`,
    ...node.p2pAddresses.map((address, i) => `  ${i === 0 ? 'p2p:     ' : '         '} ${address}`),
    `  swarm:    ${node.swarmKeyFingerprint}${node.generatedSwarmKey ? ' (a key of its own: give other nodes its swarm.key to federate)' : ''}`,
  ];
  if (node.adminTokenFile) lines.push(`  admin token written to ${node.adminTokenFile} (send it as "Authorization: Bearer <token>", or sign in to the portal with it)`);
  process.stdout.write(`${lines.join('\n')}\nPress Ctrl+C to stop.\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('second signal: exiting without a clean stop', { signal });
        process.exit(130);
      }
      stopping = true;
      logger.info('stopping', { signal });
      node.stop().then(resolve, (error) => {
        logger.error('stop failed', { err: error });
        resolve();
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  process.stdout.write('Archipel node stopped.\n');
}

export function buildProgram(): Command {
  const program = createProgram();

  program
    .command('up')
    .description('start an embedded node: API, portal, database and object store in one process')
    .option('--data-dir <dir>', 'where the node keeps its state (default ./.archipel)')
    .option('--name <name>', 'the cluster name shown to peers (default: host name)')
    .option('--http-port <n>', 'HTTP port (default 8080; 0 picks a free port)')
    .addOption(new Option('--http-host <host>', 'HTTP listen address (default 127.0.0.1)'))
    .option('--p2p-port <n>', 'libp2p TCP port for the federation (default 4001; 0 picks a free port)')
    .option('--p2p-host <ip>', 'libp2p listen address (default 127.0.0.1; 0.0.0.0 to federate across machines)')
    .option('--swarm-key <file>', 'the federation\'s swarm key file (default: the node generates its own)')
    .option('--bootstrap <multiaddr...>', 'nodes to join the federation through (repeatable, or several after one flag)')
    .option('--announce <multiaddr...>', 'addresses to announce instead of the listen addresses')
    .option('--peering-policy <policy>', 'how peering requests are answered: manual (default), auto, or allow:<cluster id>,...')
    .option('--kubeconfig <file>', 'keep Swarm/Identity/Peer objects as Kubernetes custom resources')
    .addOption(new Option('--compute-source <source>', 'the compute capacity offered: this machine (default), a fixed amount, or the Kubernetes nodes').choices(['machine', 'static', 'kubernetes']))
    .option('--compute-cores <n>', 'cores offered (machine: instead of all of them; static: required)')
    .option('--compute-memory-mib <n>', 'memory offered in MiB (machine: instead of all of it; static: required)')
    .option('--compute-gpus <n>', 'GPUs offered (machine, static; default 0)')
    .option('--argo-server <url>', 'run workflows on this Argo Workflows server (cluster mode) instead of the local engine')
    .option('--argo-namespace <ns>', 'the namespace of the Argo server to run workflows in (default argo)')
    .option('--config <file>', 'YAML or JSON configuration file')
    .addOption(new Option('--log-level <level>', 'log level').choices(['error', 'warn', 'info', 'debug']))
    .action(async (options: Record<string, string | undefined> & { bootstrap?: string[]; announce?: string[] }) => {
      await up({
        configFile: options.config,
        name: options.name,
        dataDir: options.dataDir,
        httpHost: options.httpHost,
        httpPort: options.httpPort,
        p2pHost: options.p2pHost,
        p2pPort: options.p2pPort,
        swarmKeyFile: options.swarmKey,
        bootstrap: options.bootstrap,
        announce: options.announce,
        peeringPolicy: options.peeringPolicy,
        kubeconfig: options.kubeconfig,
        computeSource: options.computeSource,
        computeCores: options.computeCores,
        computeMemoryMiB: options.computeMemoryMib,
        computeGpus: options.computeGpus,
        argoServer: options.argoServer,
        argoNamespace: options.argoNamespace,
        logLevel: options.logLevel,
      });
    });

  registerSwarmKeyCommand(program);
  registerRunCommand(program);
  registerArgoCommand(program);
  registerStepCommand(program);
  registerClientCommands(program);
  return program;
}

export function main(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
