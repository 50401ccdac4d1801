import { ExpressionError, previewExpression } from './expression-error.ts';

/** Text outside any expression, with the CWL escapes already applied. */
export interface LiteralPart {
  readonly kind: 'literal';
  readonly text: string;
}

/** `$(...)` (`kind: 'expression'`) or `${...}` (`kind: 'body'`). */
export interface ExpressionPart {
  readonly kind: 'expression' | 'body';
  /** What is between the delimiters. */
  readonly code: string;
  /** The whole `$(...)` / `${...}` as written, for messages. */
  readonly source: string;
}

export type TemplatePart = LiteralPart | ExpressionPart;

export interface ScanOptions {
  /** With InlineJavascriptRequirement `${...}` is a function body; without it, plain text. */
  javascript: boolean;
}

const BACKSLASH = 0x5c;
const DOLLAR = 0x24;

/**
 * Splits a field value into literal text and expressions, following the scanner of CWL v1.2
 * ("String interpolation"): one pass, `\$(` and `\${` give `$(` and `${`, `\\` gives `\`, any other
 * backslash stays. An expression ends at its balancing `)` or `}`; quoted strings inside it (with
 * their backslash escapes) are skipped, as cwltool does. Adjacent literal text is merged, so a value
 * that is exactly one expression yields exactly one part.
 */
export function scanExpressions(text: string, options: ScanOptions): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let from = 0; // start of literal text not yet copied into `literal`
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = text[i + 1];
      const after = text[i + 2];
      if (next === '\\') {
        literal += text.slice(from, i) + '\\';
        i += 2;
        from = i;
        continue;
      }
      if (next === '$' && (after === '(' || after === '{')) {
        literal += text.slice(from, i) + '$' + after;
        i += 3;
        from = i;
        continue;
      }
      i += 1;
      continue;
    }
    if (c === DOLLAR) {
      const open = text[i + 1];
      if (open === '(' || (open === '{' && options.javascript)) {
        const end = findClosing(text, i + 1);
        if (end < 0) {
          throw new ExpressionError(
            'syntax',
            `unterminated expression at position ${i}: ${previewExpression(text.slice(i))}`,
            text.slice(i),
          );
        }
        literal += text.slice(from, i);
        if (literal) parts.push({ kind: 'literal', text: literal });
        literal = '';
        parts.push({
          kind: open === '(' ? 'expression' : 'body',
          code: text.slice(i + 2, end),
          source: text.slice(i, end + 1),
        });
        i = end + 1;
        from = i;
        continue;
      }
    }
    i += 1;
  }
  literal += text.slice(from);
  if (literal) parts.push({ kind: 'literal', text: literal });
  return parts;
}

/** Index of the `)` or `}` balancing the opener at `openAt`, or -1. */
function findClosing(text: string, openAt: number): number {
  const open = text[openAt];
  const close = open === '(' ? ')' : '}';
  let depth = 0;
  for (let j = openAt; j < text.length; j++) {
    const ch = text[j];
    if (ch === open) depth++;
    else if (ch === close) {
      depth--;
      if (depth === 0) return j;
    } else if (ch === '"' || ch === "'") {
      j = skipQuoted(text, j);
      if (j < 0) return -1;
    }
  }
  return -1;
}

/** Index of the quote closing the string opened at `quoteAt`, or -1. */
function skipQuoted(text: string, quoteAt: number): number {
  const quote = text[quoteAt];
  for (let j = quoteAt + 1; j < text.length; j++) {
    const ch = text[j];
    if (ch === '\\') j++;
    else if (ch === quote) return j;
  }
  return -1;
}

/**
 * Whether a field value holds an expression (so it must be evaluated). Cheap for the common case:
 * text without `$(` or `${` never scans. An unterminated expression counts, so evaluating reports it.
 */
export function containsExpression(text: string, javascript: boolean): boolean {
  if (!text.includes('$(') && !(javascript && text.includes('${'))) return false;
  try {
    return scanExpressions(text, { javascript }).some((part) => part.kind !== 'literal');
  } catch {
    return true;
  }
}
