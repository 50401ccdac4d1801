import { createParser } from 'eventsource-parser';
import { authorizedFetch } from './client';

export interface RunEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/**
 * Follows a run's Server-Sent Events (`GET /runs/{id}/events`) until the run ends or `signal` aborts,
 * reconnecting after the last event seen when the connection drops. EventSource cannot send the bearer
 * token, so the stream is read with fetch.
 */
export async function followRunEvents(runId: string, onEvent: (event: RunEvent) => void, signal: AbortSignal): Promise<void> {
  let last = '';
  for (let failures = 0; !signal.aborted; ) {
    try {
      const response = await authorizedFetch(`/api/v1/runs/${encodeURIComponent(runId)}/events`, { signal, headers: last ? { 'Last-Event-ID': last } : {} });
      const parser = createParser({
        onEvent(message) {
          if (message.id) last = message.id;
          onEvent({ id: message.id ?? '', type: message.event ?? 'message', data: JSON.parse(message.data) as Record<string, unknown> });
        },
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return; // the node ends the stream when the run has ended
        parser.feed(value);
        failures = 0;
      }
    } catch (error) {
      if (signal.aborted) return;
      if ((error as { status?: number }).status !== undefined && (error as { status: number }).status < 500) throw error;
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** failures)));
    }
  }
}
