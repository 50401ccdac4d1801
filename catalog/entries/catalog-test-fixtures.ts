import type { LocalCaller, RemoteCaller } from './catalog-entry.ts';
import type { NewCatalogEntry } from './entry-schemas.ts';

/** Shared by the catalog's service and route tests. */
export const CLUSTER = '12D3KooWLocalCluster';
export const OTHER = '12D3KooWOtherCluster';

export const WC_TOOL = `cwlVersion: v1.2
class: CommandLineTool
label: Count words
baseCommand: wc
inputs:
  text:
    type: File
    label: Text file
    doc: The file to count
    inputBinding: {position: 1}
  lines:
    type: boolean?
    default: false
    inputBinding: {prefix: -l}
  mode:
    type:
      type: enum
      symbols: [fast, exact]
    default: fast
outputs:
  counts:
    type: stdout
    doc: What wc printed
`;

export const local = (userName: string, projects: string[] = [], isAdmin = false): LocalCaller => ({
  kind: 'local',
  userId: `id-${userName}`,
  userName,
  isAdmin,
  projects: projects.map((p) => `${CLUSTER}/${p}`),
});
export const remote = (user: string, projects: string[], cluster = OTHER): RemoteCaller => ({ kind: 'remote', cluster, user, projects });

export const dataEntry = (overrides: Partial<NewCatalogEntry> = {}): NewCatalogEntry =>
  ({
    kind: 'data',
    name: 'Sea temperatures',
    description: 'Daily sea surface temperatures, 1990-2025',
    tags: ['ocean', 'climate'],
    licence: 'CC-BY-4.0',
    spec: { source: { type: 's3', bucket: 'ocean-data', prefix: 'sst/' } },
    ...overrides,
  }) as NewCatalogEntry;
