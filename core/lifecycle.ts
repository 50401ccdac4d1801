/**
 * The start/stop contract. Constructing a service does no I/O; `start` acquires resources (connections,
 * ports, timers) and `stop` releases them. The composition root stops services in reverse start order.
 */
export interface Startable {
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}
