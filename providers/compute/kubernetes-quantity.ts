import { InvalidInputError } from '../../core/index.ts';

/** A Kubernetes quantity as an exact fraction, `numerator / denominator` (the denominator is positive). */
export interface Quantity {
  numerator: bigint;
  denominator: bigint;
}

/**
 * `<sign><number><suffix>`, the suffix binary (`Ki` ... `Ei`), a decimal exponent (`e3`, `E-2`) or decimal
 * SI (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`), as `resource.Quantity` of the Kubernetes API reads
 * it. `1E` is an exabyte and `1E3` a thousand; `K`, `1e` and `1Mb` are not quantities.
 */
const PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:([KMGTPE])i|[eE]([+-]?\d+)|([numkMGTPE]))?$/;
const BINARY: Record<string, bigint> = { K: 10n, M: 20n, G: 30n, T: 40n, P: 50n, E: 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Far beyond any real amount, and small enough that the exact arithmetic stays cheap. */
const MAX_EXPONENT = 100;
const MAX_LENGTH = 128;

/** Reads a quantity exactly (`"3500m"`, `"16Gi"`, `"1e9"`, `"0.5"`); `InvalidInputError` saying why otherwise. */
export function parseQuantity(text: string): Quantity {
  const fail = (why: string) =>
    new InvalidInputError(`${JSON.stringify(text)} is not a Kubernetes quantity: ${why}`, [{ path: '', message: why }]);
  if (typeof text !== 'string') throw fail('not a string');
  if (text.length > MAX_LENGTH) throw fail(`longer than ${MAX_LENGTH} characters`);
  const match = PATTERN.exec(text);
  const [, sign, whole = '', fraction, binary, exponent, decimal] = match ?? [];
  if (!match || (whole === '' && !fraction)) {
    throw fail('expected a number with an optional suffix (such as 4, 3500m, 0.5, 16Gi, 500M, 1e9)');
  }
  let numerator = BigInt(`${whole}${fraction ?? ''}` || '0');
  let denominator = 10n ** BigInt(fraction?.length ?? 0);
  let power10 = 0;
  if (exponent !== undefined) {
    power10 = Number(exponent);
    if (Math.abs(power10) > MAX_EXPONENT) throw fail(`exponent beyond ±${MAX_EXPONENT}`);
  } else if (decimal !== undefined) {
    power10 = DECIMAL[decimal]!;
  }
  if (power10 >= 0) numerator *= 10n ** BigInt(power10);
  else denominator *= 10n ** BigInt(-power10);
  if (binary !== undefined) numerator <<= BINARY[binary]!;
  return { numerator: sign === '-' ? -numerator : numerator, denominator };
}

/** One millicore, one mebibyte and one whole unit, as quantities to count in. */
export const MILLICORE: Quantity = { numerator: 1n, denominator: 1000n };
export const MEBIBYTE: Quantity = { numerator: 1n << 20n, denominator: 1n };
export const ONE: Quantity = { numerator: 1n, denominator: 1n };

/** How many whole `unit`s a non-negative quantity holds, rounded down: never more than there is. */
export function wholeUnits(quantity: Quantity, unit: Quantity): bigint {
  return (quantity.numerator * unit.denominator) / (quantity.denominator * unit.numerator);
}
