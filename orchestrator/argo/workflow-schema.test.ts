import { describe, expect, it } from 'vitest';
import { InternalError } from '../../core/index.ts';
import { createArgoWorkflowValidator, validateArgoWorkflow } from './workflow-schema.ts';

const workflow = (template: Record<string, unknown>) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Workflow',
  metadata: { generateName: 'hello-' },
  spec: { entrypoint: 'main', templates: [{ name: 'main', ...template }] },
});

describe('validateArgoWorkflow', () => {
  it('accepts a Workflow that Argo’s schema accepts', () => {
    expect(validateArgoWorkflow(workflow({ container: { image: 'alpine', command: ['echo', 'hi'] } }))).toEqual({ valid: true });
  });

  it('names every problem by its JSON path', () => {
    const result = validateArgoWorkflow({ ...workflow({ container: { command: 'echo hi' } }), kind: 'Pod' });
    expect(result).toEqual({
      valid: false,
      errors: expect.arrayContaining([
        '/kind must be equal to constant ("Workflow")',
        "/spec/templates/0/container must have required property 'image'",
        '/spec/templates/0/container/command must be array',
      ]),
    });
  });

  it('follows the schema where it is stricter than Kubernetes: quantities and IntOrString are strings', () => {
    const result = validateArgoWorkflow(workflow({ activeDeadlineSeconds: 60, container: { image: 'alpine', resources: { limits: { cpu: 1 } } } }));
    expect(result).toEqual({
      valid: false,
      errors: ['/spec/templates/0/activeDeadlineSeconds must be string', '/spec/templates/0/container/resources/limits/cpu must be string'],
    });
  });

  it('says where it looked when the schema file is missing', () => {
    expect(() => createArgoWorkflowValidator({ schemaPath: '/nowhere/schema.json' })).toThrow(InternalError);
    expect(() => createArgoWorkflowValidator({ schemaPath: '/nowhere/schema.json' })).toThrow(/missing at \/nowhere\/schema\.json.*\.\.\/shared\/argo/);
  });
});
