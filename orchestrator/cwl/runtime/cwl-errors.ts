import { ArchipelError, InvalidInputError, NotImplementedError, type InputIssue } from '../../../core/index.ts';

/** A requirement this runtime cannot meet (`archipel run` exits 33, like the reference runner). */
export class UnsupportedRequirementError extends NotImplementedError {}

/** A job whose inputs do not match the tool's input types. */
export class JobInputError extends InvalidInputError {
  constructor(message: string, issues: InputIssue[] = []) {
    super(message, issues);
  }
}

/** The tool ran and failed (`permanentFail`), or its outputs do not match their declared types. */
export class ProcessFailedError extends ArchipelError {
  readonly kind = 'internal' as const;
  constructor(
    message: string,
    readonly status: 'permanentFail' | 'temporaryFail' = 'permanentFail',
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
