/**
 * A task's `when`, evaluated after parameter substitution as Argo does with govaluate: literals are
 * numbers, quoted strings and `true`/`false`; a bare word is a string (`foo != bar` needs no quotes);
 * `==`/`!=` compare type and value (so `true == "true"` is false), `<`, `>`, `<=`, `>=` compare two numbers
 * or two strings, `=~`/`!~` match a regular expression, and `&&`, `||`, `!` and parentheses combine
 * booleans. Arithmetic, `in`, `?:` and dates are not supported and fail as invalid expressions.
 */
type Value = string | number | boolean;

type Token = { kind: 'value'; value: Value } | { kind: 'op'; op: string };

export class WhenExpressionError extends Error {
  constructor(when: string, why: string) {
    super(`Invalid 'when' expression '${when}': ${why}`);
    this.name = 'WhenExpressionError';
  }
}

const OPERATORS = ['==', '!=', '>=', '<=', '=~', '!~', '&&', '||', '>', '<', '!', '(', ')', '-'];

function tokenize(text: string, fail: (why: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: 'value', value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) value += text[j] === '\\' && j + 1 < text.length ? text[++j] : text[j];
      if (j >= text.length) fail('unclosed quote');
      tokens.push({ kind: 'value', value });
      i = j + 1;
      continue;
    }
    if (c === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) fail("unclosed '['");
      tokens.push({ kind: 'value', value: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (word) {
      const w = word[0];
      tokens.push({ kind: 'value', value: w === 'true' ? true : w === 'false' ? false : w });
      i += w.length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) fail(`unsupported token '${c}'`);
    tokens.push({ kind: 'op', op: op! });
    i += op!.length;
  }
  return tokens;
}

const describe = (v: Value) => (typeof v === 'string' ? `'${v}'` : String(v));

export function evaluateWhen(when: string): boolean {
  const fail = (why: string): never => {
    throw new WhenExpressionError(when, why);
  };
  const tokens = tokenize(when, fail);
  let at = 0;
  const peekOp = () => {
    const t = tokens[at];
    return t?.kind === 'op' ? t.op : undefined;
  };
  const bool = (v: Value, op: string): boolean =>
    typeof v === 'boolean' ? v : fail(`value ${describe(v)} cannot be used with '${op}': it is not a boolean`);

  const or = (): Value => {
    let left = and();
    while (peekOp() === '||') {
      at++;
      const right = and();
      left = bool(left, '||') || bool(right, '||');
    }
    return left;
  };
  const and = (): Value => {
    let left = comparison();
    while (peekOp() === '&&') {
      at++;
      const right = comparison();
      left = bool(left, '&&') && bool(right, '&&');
    }
    return left;
  };
  const comparison = (): Value => {
    let left = unary();
    for (let op = peekOp(); op && ['==', '!=', '>', '<', '>=', '<=', '=~', '!~'].includes(op); op = peekOp()) {
      at++;
      left = compare(left, op, unary());
    }
    return left;
  };
  const compare = (a: Value, op: string, b: Value): boolean => {
    if (op === '==') return typeof a === typeof b && a === b;
    if (op === '!=') return !(typeof a === typeof b && a === b);
    if (op === '=~' || op === '!~') {
      if (typeof a !== 'string' || typeof b !== 'string') return fail(`'${op}' needs two strings`);
      let re: RegExp;
      try {
        re = new RegExp(b);
      } catch {
        return fail(`invalid regular expression ${describe(b)}`);
      }
      return re.test(a) === (op === '=~');
    }
    if (typeof a !== typeof b || typeof a === 'boolean') return fail(`cannot compare ${describe(a)} and ${describe(b)} with '${op}'`);
    switch (op) {
      case '>':
        return a > b;
      case '<':
        return a < b;
      case '>=':
        return a >= b;
      default:
        return a <= b;
    }
  };
  const unary = (): Value => {
    const token = tokens[at++];
    if (!token) return fail('unexpected end of expression');
    if (token.kind === 'value') return token.value;
    if (token.op === '!') return !bool(unary(), '!');
    if (token.op === '-') {
      const v = unary();
      return typeof v === 'number' ? -v : fail(`value ${describe(v)} cannot be negated`);
    }
    if (token.op === '(') {
      const inner = or();
      if (peekOp() !== ')') fail("missing ')'");
      at++;
      return inner;
    }
    return fail(`unexpected '${token.op}'`);
  };

  if (!tokens.length) return fail('empty expression');
  const result = or();
  if (at < tokens.length) fail('unexpected token after the expression');
  if (typeof result !== 'boolean') fail(`expected a boolean, got ${describe(result)}`);
  return result as boolean;
}
