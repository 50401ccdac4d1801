import { createHash } from 'node:crypto';

/**
 * Argo template and task names are DNS labels (lower-case letters, digits, '-'; at most 63). CWL ids
 * are freer, so each is lowered and cleaned, and when that changed it, or made it collide, a short
 * hash of the original keeps it unique and stable.
 */
export function createNamer() {
  const taken = new Map<string, string>();
  return (original: string): string => {
    let name = original.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
    if (name !== original || name.length > 50) name = `${name.slice(0, 50).replace(/-+$/, '')}-${hash(original)}`;
    const owner = taken.get(name);
    if (owner !== undefined && owner !== original) name = `${name.slice(0, 50)}-${hash(`${original}#${taken.size}`)}`;
    taken.set(name, original);
    return name;
  };
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);
