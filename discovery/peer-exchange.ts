import { raceAbort } from './json-protocol.ts';
import { ConflictError, InvalidInputError, NotAllowedError, NotFoundError, NotImplementedError, UnavailableError, isArchipelError } from '../core/index.ts';

/**
 * One request to a peered cluster, waited for at most `timeoutMs` (or until the caller's `signal`): no
 * answer in time, or a peer that cannot be reached, is `unavailable`; a peer that is no longer peered
 * (its stream refused) is "not found", as for a cluster that never was. The reply is returned unchecked.
 */
export async function askPeer(
  clusterId: string,
  ask: (signal: AbortSignal) => Promise<unknown>,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<unknown> {
  const timer = AbortSignal.timeout(options.timeoutMs);
  const deadline = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
  try {
    return await raceAbort(ask(deadline), deadline);
  } catch (error) {
    if (timer.aborted) throw new UnavailableError(`cluster ${clusterId} did not answer within ${options.timeoutMs} ms`, { cause: error, details: { clusterId } });
    if (options.signal?.aborted) throw error;
    if (isArchipelError(error) && error.kind === 'not-allowed') throw new NotFoundError(`cluster ${clusterId} is not peered with this one`, { cause: error });
    throw new UnavailableError(`cannot reach cluster ${clusterId}`, { cause: error, details: { clusterId } });
  }
}

/** The error a peer's refusal becomes here: the same kind, with the peer's message; an unknown kind is `unavailable`. */
export function peerRefusal(clusterId: string, code: string, message: string): Error {
  const options = { details: { clusterId } };
  switch (code) {
    case 'conflict':
      return new ConflictError(message, options);
    case 'not-found':
      return new NotFoundError(message, options);
    case 'invalid-input':
      return new InvalidInputError(message, [], options);
    case 'not-implemented':
      return new NotImplementedError(`cluster ${clusterId}: ${message}`, options);
    case 'not-allowed':
      return new NotAllowedError(`cluster ${clusterId} refused: ${message}`, options);
    default:
      return new UnavailableError(`cluster ${clusterId} could not answer: ${message}`, options);
  }
}
