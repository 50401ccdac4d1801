import { useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';

interface RawIssue {
  path?: unknown;
  message?: unknown;
  line?: unknown;
}

/** The API's issues of a 400, split between the form's fields and the rest. */
export interface PlacedIssues {
  /** Problems per field key, in the API's words. */
  byField: Record<string, string[]>;
  /** The error to show in an ErrorNotice: the message, with only the issues that name none of the fields. */
  rest: unknown;
}

// `json:name`, `query:limit`: where the router found the field, not part of the field's path.
const WHERE = /^(json|query|param|header|cookie|form):/;

/**
 * Places the issues of an ApiError next to the fields they name: an issue goes to the longest field key
 * that is its path or a prefix of it (`spec.source.bucket` → `spec.source.bucket`, `tags.3` → `tags`,
 * `spec.cwl:inputs.x.type` → `spec.cwl`). What names no field stays with the error.
 */
export function placeIssues(error: unknown, fields: readonly string[]): PlacedIssues {
  if (!(error instanceof ApiError)) return { byField: {}, rest: error };
  const raw = error.details.issues;
  if (!Array.isArray(raw) || raw.length === 0) return { byField: {}, rest: error };
  const byField: Record<string, string[]> = {};
  const unplaced: RawIssue[] = [];
  for (const issue of raw as RawIssue[]) {
    const path = (Array.isArray(issue.path) ? issue.path.join('.') : String(issue.path ?? '')).replace(WHERE, '');
    const field = fields.filter((f) => path === f || path.startsWith(`${f}.`) || path.startsWith(`${f}:`)).sort((a, b) => b.length - a.length)[0];
    if (field === undefined) {
      unplaced.push(issue);
      continue;
    }
    // `tags.2` → "item 3"; `spec.cwl:inputs.x.type` → "inputs.x.type".
    const inner = path.slice(field.length).replace(/^[.:]/, '').replace(/^(\d+)(?=\.|$)/, (n) => `item ${Number(n) + 1}`);
    const line = typeof issue.line === 'number' ? `line ${issue.line}: ` : '';
    (byField[field] ??= []).push(`${line}${inner ? `${inner}: ` : ''}${String(issue.message ?? '')}`);
  }
  if (Object.keys(byField).length === 0) return { byField, rest: error };
  // The message repeats every issue; once they are next to their fields, its first words suffice.
  const what = error.message.startsWith('invalid ') ? error.message.split(':')[0] : 'invalid input';
  const rest = new ApiError(error.status, error.code, `${what}: see the problems marked at the fields above.`, { ...error.details, issues: unplaced });
  return { byField, rest };
}

/** A 403 of the API in words (`only cluster administrators may …`), then what the node said. Other errors pass unchanged. */
export function explainForbidden(error: unknown, onlyWho: string): unknown {
  if (error instanceof ApiError && error.status === 403) return new ApiError(403, error.code, `${onlyWho} The node said: ${error.message}.`, error.details);
  return error;
}

/** The props that tie a control to its problem: `aria-invalid` and `aria-describedby`. */
export function problemProps(id: string, problems: string[] | undefined, help?: boolean) {
  const describedBy = [help ? `${id}-help` : '', problems?.length ? `${id}-problem` : ''].filter(Boolean).join(' ');
  return { id, 'aria-invalid': problems?.length ? true : undefined, 'aria-describedby': describedBy || undefined };
}

/** The API's problems with one field, under it. */
export function FieldProblem({ id, problems }: { id: string; problems: string[] | undefined }) {
  if (!problems?.length) return null;
  return (
    <p className="problem" id={`${id}-problem`}>
      {problems.join('; ')}
    </p>
  );
}

/** A labelled field: its control, an optional help line, and the API's problems with it. */
export function Field({ id, label, problems, help, children }: { id: string; label: ReactNode; problems?: string[] | undefined; help?: ReactNode; children: ReactNode }) {
  return (
    <div className={problems?.length ? 'field invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {help && (
        <p className="help" id={`${id}-help`}>
          {help}
        </p>
      )}
      <FieldProblem id={id} problems={problems} />
    </div>
  );
}

/**
 * A button for something that cannot be undone: the first press asks, a second one does it.
 * `label` names the thing (`Delete "Sea temperatures"`) for screen readers.
 */
export function ConfirmButton({ children, confirm, label, disabled, onConfirm }: { children: string; confirm: string; label: string; disabled?: boolean; onConfirm(): void | Promise<void> }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" disabled={disabled} aria-label={label} onClick={() => setAsking(true)}>
        {children}
      </button>
    );
  return (
    <span className="confirm" role="group" aria-label={`Confirm: ${label}`}>
      <span>{confirm}</span>
      <button
        type="button"
        className="danger"
        disabled={disabled}
        autoFocus
        onClick={() => {
          setAsking(false);
          void onConfirm();
        }}
      >
        Yes, {children.toLowerCase()}
      </button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
