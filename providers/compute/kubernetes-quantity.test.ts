import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../core/index.ts';
import { MEBIBYTE, MILLICORE, ONE, parseQuantity, wholeUnits } from './kubernetes-quantity.ts';

const millicores = (text: string) => Number(wholeUnits(parseQuantity(text), MILLICORE));
const mebibytes = (text: string) => Number(wholeUnits(parseQuantity(text), MEBIBYTE));

describe('Kubernetes quantities', () => {
  it('reads CPU as whole cores, millicores and decimals, rounding down to the millicore', () => {
    expect(millicores('4')).toBe(4000);
    expect(millicores('3500m')).toBe(3500);
    expect(millicores('0.5')).toBe(500);
    expect(millicores('.5')).toBe(500);
    expect(millicores('2.')).toBe(2000);
    expect(millicores('+1')).toBe(1000);
    expect(millicores('1500000u')).toBe(1500);
    expect(millicores('999999n')).toBe(0); // less than a millicore
    expect(millicores('0.0015')).toBe(1);
    expect(millicores('1e3')).toBe(1_000_000);
    expect(millicores('0')).toBe(0);
  });

  it('reads memory with binary and decimal suffixes and exponents, to MiB rounded down', () => {
    expect(mebibytes('16Gi')).toBe(16384);
    expect(mebibytes('16384Mi')).toBe(16384);
    expect(mebibytes('17179869184')).toBe(16384);
    expect(mebibytes('1G')).toBe(953); // 10^9 bytes = 953.67 MiB
    expect(mebibytes('500M')).toBe(476); // 476.84
    expect(mebibytes('1e9')).toBe(953);
    expect(mebibytes('1E9')).toBe(953);
    expect(mebibytes('128974848k')).toBe(123000); // 128,974,848,000 bytes, exactly 123000 MiB
    expect(mebibytes('128974847k')).toBe(122999); // 1000 bytes fewer
    expect(mebibytes('131072Ki')).toBe(128);
    expect(mebibytes('1Ti')).toBe(1024 * 1024);
    expect(mebibytes('1048575')).toBe(0); // one byte short of a MiB
    expect(mebibytes('1.5Gi')).toBe(1536);
    expect(mebibytes('1E')).toBe(953_674_316_406); // an exabyte, not an exponent
    expect(mebibytes('2Ei')).toBe(2 * 1024 ** 4);
  });

  it('keeps the exact value: no floating-point drift', () => {
    expect(parseQuantity('0.1')).toEqual({ numerator: 1n, denominator: 10n });
    expect(parseQuantity('3500m')).toEqual({ numerator: 3500n, denominator: 1000n });
    expect(parseQuantity('-2Ki')).toEqual({ numerator: -2048n, denominator: 1n });
    expect(wholeUnits(parseQuantity('12345678901234567890'), ONE)).toBe(12345678901234567890n);
  });

  it('refuses what is not a quantity, saying what was given', () => {
    for (const bad of ['', ' 1', '1 ', 'abc', '1K', '1ki', '1Mb', '1e', '1.2.3', '.', 'm', 'Gi', '1Gi1', '0x10', '1e1000', '1,5', 'x'.repeat(200)]) {
      const attempt = () => parseQuantity(bad);
      expect(attempt, bad).toThrow(InvalidInputError);
      expect(attempt, bad).toThrow(bad.length > 128 ? /longer than 128/ : `${JSON.stringify(bad)} is not a Kubernetes quantity`);
    }
    expect(() => parseQuantity('1e1000')).toThrow(/exponent beyond ±100/);
  });
});
