import { z } from '@hono/zod-openapi';

/** The HTTP shapes of runs and uploaded files. */
const Timestamp = z.string().datetime().openapi({ example: '2026-12-02T10:00:00.000Z' });
export const RunPhaseSchema = z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Error']).openapi('RunPhase');
const StepPhaseSchema = z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Omitted']);

export const RunIdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '3f9a0c21d4e5b677' }) });
export const RunStepParam = RunIdParam.extend({
  step: z.string().min(1).openapi({ param: { name: 'step', in: 'path' }, description: 'The step path; `outer/inner` (URL-encoded) inside a subworkflow' }),
});

export const StepStateSchema = z
  .object({
    step: z.string(),
    phase: StepPhaseSchema,
    cluster: z.string().openapi({ description: 'The cluster that runs the step' }),
    startedAt: Timestamp.optional(),
    finishedAt: Timestamp.optional(),
    exitCode: z.number().int().optional(),
    message: z.string().optional(),
    items: z.object({
      total: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      running: z.number().int(),
      reused: z.number().int().openapi({ description: 'Items that took the remembered result of an identical earlier run instead of running' }),
    }),
    kind: z.enum(['CommandLineTool', 'ExpressionTool', 'Workflow']).optional().openapi({ description: 'What the step runs (a Workflow step holds the `step/inner` steps)' }),
    scatter: z.boolean().optional().openapi({ description: 'Whether the step scatters over its inputs' }),
    needs: z.array(z.string()).optional().openapi({ description: 'The steps of the same workflow whose outputs this step reads: the edges of the run\'s DAG' }),
  })
  .openapi('RunStep');

export const RunSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    project: z.string(),
    owner: z.string(),
    labels: z.record(z.string(), z.string()),
    phase: RunPhaseSchema,
    message: z.string().optional(),
    processClass: z.string(),
    documentSha256: z.string(),
    attempt: z.number().int(),
    createdAt: Timestamp,
    startedAt: Timestamp.optional(),
    finishedAt: Timestamp.optional(),
    outputTarget: z.object({ entry: z.string(), cluster: z.string().optional(), prefix: z.string().optional() }).optional(),
    outputLocation: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Where the output files were written (a directory, or an S3 bucket and prefix)' }),
    placement: z
      .record(
        z.string(),
        z.object({
          cluster: z.string(),
          reasons: z.array(z.string()),
          pinned: z.boolean().optional().openapi({ description: 'Pinned there: never placed elsewhere' }),
          avoid: z.array(z.string()).optional().openapi({ description: 'Clusters the run asked never to run it on' }),
          lost: z.array(z.string()).optional().openapi({ description: 'Clusters lost while they ran the step; it was placed again after each' }),
        }),
      )
      .optional()
      .openapi({ description: 'Per step placed on another cluster: the cluster and why' }),
    steps: z.array(StepStateSchema),
  })
  .openapi('Run');

const LabelsSchema = z.record(z.string(), z.string().max(63)).refine((l) => Object.keys(l).length <= 32, 'at most 32 labels');

export const NewRunSchema = z
  .strictObject({
    cwl: z
      .union([z.string().min(1), z.record(z.string(), z.unknown())])
      .optional()
      .openapi({ description: 'The CWL document (a Workflow, CommandLineTool or ExpressionTool), as YAML or JSON text or as an object; one self-contained document (pack it with `cwltool --pack`). Or give `service`.' }),
    process: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .optional()
      .openapi({ description: 'For a packed document ($graph): the id of the process to run (default main)' }),
    service: z
      .union([z.string().min(1), z.strictObject({ id: z.string().min(1), cluster: z.string().min(1).max(128).optional() })])
      .optional()
      .openapi({
        description:
          "Instead of `cwl`: a service catalog entry you may see — its id (this cluster's entry), or `{ id, cluster }` for a peered cluster's (as its search results name it) — whose tool runs, in its image on a cluster",
      }),
    job: z.record(z.string(), z.unknown()).default({}).openapi({ description: 'The input object; files are `{ "class": "File", "location": "archipel:files/<id>" }` from `POST /files`, or a data catalog entry (or a path in it) as `archipel:catalog/<entry id>[/<path>]` for a File or Directory' }),
    project: z.string().min(1).openapi({ description: 'The project the run belongs to (you must be a member)' }),
    name: z.string().min(1).max(200).optional(),
    labels: LabelsSchema.optional(),
    outputs: z
      .strictObject({
        entry: z.string().min(1).openapi({ description: 'A storage catalog entry you may see (a directory or an S3 target of this cluster, an S3 target of a peer)' }),
        cluster: z.string().min(1).max(128).optional().openapi({ description: 'The peered cluster that owns the entry (default: this one)' }),
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be a relative path of letters, digits, ".", "_" and "-" segments')
          .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not have "." or ".." segments')
          .optional(),
      })
      .optional()
      .openapi({ description: 'Where the output files are written when the run succeeds (they stay downloadable from the node too)' }),
    reuse: z
      .boolean()
      .optional()
      .openapi({ description: 'Take the results of identical tool steps of earlier runs in the project instead of running them (default true; a step opts out with WorkReuse enableReuse: false)' }),
    placement: z
      .record(z.string().min(1), z.strictObject({ cluster: z.string().min(1).max(128).optional(), avoid: z.array(z.string().min(1).max(128)).max(64).optional() }))
      .optional()
      .openapi({ description: "Per step path: the cluster to run it on, clusters never to run it on (over the document's arc:Placement hints); see docs/placement.md" }),
  })
  .openapi('NewRun');

export const SubmitQuery = z.object({
  dryRun: z.enum(['true', 'false']).optional().openapi({ description: 'true: answer where each step would run and why (200), and run nothing' }),
});

const ResourcesSchema = z.object({ cores: z.number(), memoryMiB: z.number(), gpus: z.number() });
export const PlanSchema = z
  .object({
    dryRun: z.literal(true),
    steps: z.array(
      z.object({
        step: z.string(),
        cluster: z.string(),
        reasons: z.array(z.string()),
        score: z.number(),
        alternatives: z.array(z.object({ cluster: z.string(), score: z.number() })),
        excluded: z.array(z.object({ cluster: z.string(), why: z.string() })),
      }),
    ),
    clusters: z.array(z.object({ id: z.string(), name: z.string().optional(), local: z.boolean(), reachable: z.boolean(), free: ResourcesSchema })),
  })
  .openapi('RunPlan');

export const RunListQuery = z.object({
  project: z.string().optional(),
  phase: RunPhaseSchema.optional(),
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({ description: '`key=value`; repeat to require several' }),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().optional(),
});

export const RunPageSchema = z.object({ items: z.array(RunSchema), nextCursor: z.string().nullable() }).openapi('RunPage');

export const EventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional().openapi({ description: 'Send only events after this id (as the Last-Event-ID header does)' }),
});

export const LogsQuery = z.object({
  follow: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'Keep the response open and send the log as it grows, until the step ends' }),
});

export const FileSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    project: z.string().nullable(),
    owner: z.string(),
    createdAt: Timestamp,
    location: z.string().openapi({ description: 'What a job names the file by', example: 'archipel:files/0f3c...' }),
  })
  .openapi('UploadedFile');

export const UploadQuery = z.object({
  name: z.string().min(1).openapi({ description: 'The file name (its basename in a job)' }),
  project: z.string().optional().openapi({ description: 'Let the members of this project use the file too' }),
});

export const FileIdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
