export { readJson, prepareStep, gatherStep, finishScope, locateStep, workflowOfScope, type ControlContext, type PrepareDecision } from './control-steps.ts';
