import logUpdate from 'log-update';
import { isArchipelError } from '../../core/index.ts';
import type { NodeClient } from './node-client.ts';

export interface RunStep {
  step: string;
  phase: string;
  cluster: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  message?: string;
  items: { total: number; succeeded: number; failed: number; running: number; reused: number };
}

export interface RunView {
  id: string;
  name: string;
  project: string;
  phase: string;
  message?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  steps: RunStep[];
}

interface RunEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

const FINAL = new Set(['Succeeded', 'Failed', 'Error']);
const STEP_FINAL = new Set(['Succeeded', 'Failed', 'Skipped', 'Omitted']);

/** The run's events from the node, after `lastId`; ends when the stream does. */
async function* readEvents(client: NodeClient, runId: string, lastId: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
  const response = await client.request('GET', `/runs/${runId}/events`, { headers: { 'Last-Event-ID': String(lastId) }, signal });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
      const data = field('data');
      if (data === undefined) continue;
      yield { id: Number(field('id')), event: field('event') ?? 'message', data: JSON.parse(data) as Record<string, unknown> };
    }
  }
}

export function formatDuration(ms: number): string {
  if (ms < 0) return '';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const duration = (from?: string, to?: string) => (from ? formatDuration((to ? Date.parse(to) : Date.now()) - Date.parse(from)) : '');
const shortCluster = (id: string) => (id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id);

/** The per-step table, with a bar of finished steps. */
export function renderRun(run: RunView): string {
  const done = run.steps.filter((s) => STEP_FINAL.has(s.phase)).length;
  const width = 24;
  const filled = run.steps.length ? Math.round((done / run.steps.length) * width) : width;
  const header = `run ${run.id} (${run.name}) ${run.phase}  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${run.steps.length} steps  ${duration(run.startedAt ?? run.createdAt, run.finishedAt)}`;
  const rows = [['STEP', 'PHASE', 'CLUSTER', 'DURATION', 'NOTE'], ...run.steps.map((s) => [
    s.step,
    s.phase,
    shortCluster(s.cluster),
    duration(s.startedAt, s.finishedAt),
    [s.items.total > 1 ? `${s.items.succeeded}/${s.items.total} items` : '', s.items.reused ? `${s.items.reused} reused` : '', s.phase === 'Failed' ? (s.message ?? '') : ''].filter(Boolean).join(', '),
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  return [header, ...table, ...(run.message && FINAL.has(run.phase) ? [run.message] : [])].join('\n');
}

/** A `log` event's lines, each prefixed with its step (and item, for one of a step's several pods). */
export function logLines(runId: string, data: Record<string, unknown>): string {
  const prefix = `[${String(data.step)}${data.item !== undefined ? `#${String(data.item)}` : ''}] `;
  const text = String(data.text ?? '');
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').filter((line, i, all) => line !== '' || all.length > 1);
  if (data.truncated) lines.push(`… the rest is not streamed: archipel runs logs ${runId} ${String(data.step)}`);
  return lines.map((line) => `${prefix}${line}\n`).join('');
}

/**
 * Follows a run to its end: on a terminal, a live table of its steps; piped, one line per transition.
 * With `logs`, the steps' log lines are printed as they come (above the table on a terminal).
 * Reconnects after a dropped stream from the last event seen. Resolves with the final run.
 */
export async function watchRun(
  client: NodeClient,
  runId: string,
  out: { isTTY?: boolean; write(text: string): void },
  signal = new AbortController().signal,
  options: { logs?: boolean } = {},
): Promise<RunView> {
  let run = await client.json<RunView>('GET', `/runs/${runId}`);
  let lastId = 0;
  const tty = out.isTTY === true;
  const draw = tty ? () => logUpdate(renderRun(run)) : () => {};
  const timer = tty ? setInterval(draw, 1000) : undefined;
  try {
    draw();
    while (!FINAL.has(run.phase) && !signal.aborted) {
      try {
        for await (const event of readEvents(client, runId, lastId, signal)) {
          lastId = event.id;
          const at = String(event.data.at ?? '');
          if (event.event === 'step') {
            const step = event.data as unknown as RunStep;
            run = { ...run, steps: run.steps.map((s) => (s.step === step.step ? { ...s, ...step } : s)) };
            if (!tty) out.write(`${at}  step ${step.step} ${step.phase}${step.cluster ? ` on ${step.cluster}` : ''}${step.phase === 'Failed' && step.message ? `: ${step.message}` : ''}\n`);
          } else if (event.event === 'log') {
            if (!options.logs) continue;
            // The live table is redrawn under the lines just printed.
            if (tty) logUpdate.clear();
            out.write(logLines(runId, event.data));
          } else if (event.event === 'run') {
            run = { ...run, phase: String(event.data.phase) };
            if (!tty) out.write(`${at}  run ${runId} ${String(event.data.phase)}${event.data.message ? `: ${String(event.data.message)}` : ''}\n`);
          }
          draw();
        }
      } catch (error) {
        if (signal.aborted) break;
        // A dropped connection (or a node restarting): look again, then follow from the last event seen.
        if (isArchipelError(error) && !error.retryable) throw error;
        await new Promise((r) => setTimeout(r, 1000));
      }
      run = await client.json<RunView>('GET', `/runs/${runId}`);
    }
    run = await client.json<RunView>('GET', `/runs/${runId}`);
    if (tty) {
      logUpdate(renderRun(run));
      logUpdate.done();
    }
    return run;
  } finally {
    clearInterval(timer);
  }
}
