/** Nine levels of nine aliases each: 568 bytes that stand for 9^9 (387 million) strings. */
export function aliasBomb(): string {
  const names = 'abcdefghi'.split('');
  const lines = [`${names[0]}: &${names[0]} [${Array(9).fill('"lol"').join(',')}]`];
  for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
  return `${lines.join('\n')}\n`;
}
