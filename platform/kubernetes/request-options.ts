import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

/**
 * Per-request options for the client library's object-parameter API: the caller's abort signal and, for
 * patches, the content type (without one the library sends a JSON patch).
 */
export function requestOptions(signal: AbortSignal | undefined, contentType?: string): ConfigurationOptions {
  // The object-parameter API runs observable middleware (its own small Observable, not rxjs).
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      if (signal) context.setSignal(signal);
      if (contentType) context.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
