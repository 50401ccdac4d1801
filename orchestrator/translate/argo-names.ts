import { createHash } from 'node:crypto';

/**
 * Argo template and task names are DNS labels (lower-case letters, digits, '-'; at most 63). CWL ids
 * are freer, so each is lowered and cleaned, and when that changed it, or made it collide, a short
 * hash of the original keeps it unique and stable. `owner` says what the name is for when two things
 * may ask for the same one (step `a-prepare`'s task and step `a`'s prepare task): the first keeps it.
 */
export function createNamer() {
  const taken = new Map<string, string>();
  return (original: string, owner: string = original): string => {
    let name = original.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
    if (name !== original || name.length > 50) name = `${name.slice(0, 50).replace(/-+$/, '')}-${hash(original)}`;
    const holder = taken.get(name);
    if (holder !== undefined && holder !== owner) name = `${name.slice(0, 50)}-${hash(`${owner}#${taken.size}`)}`;
    taken.set(name, owner);
    return name;
  };
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);
