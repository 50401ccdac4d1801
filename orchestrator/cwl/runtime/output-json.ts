/**
 * The output object as JSON text. Integral numbers of 1e21 and more are written with all their digits
 * (JavaScript would write `1e+42`, which readers take for an inexact float), as the reference runner does.
 */
export function formatOutputJson(value: unknown): string {
  const MARK = '\u0000bignum:';
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 1e21 ? `${MARK}${expandExponent(v)}` : v),
    4,
  );
  return text.replace(/"\\u0000bignum:(-?\d+)"/g, '$1');
}

/** `4.2e+42` → `42` followed by 41 zeros: the shortest decimal of the double, without an exponent. */
function expandExponent(value: number): string {
  const [mantissa = '0', exponent = '0'] = value.toString().split('e+');
  const negative = mantissa.startsWith('-');
  const [whole = '', fraction = ''] = mantissa.replace('-', '').split('.');
  const digits = whole + fraction;
  return (negative ? '-' : '') + digits + '0'.repeat(Number(exponent) - fraction.length);
}
