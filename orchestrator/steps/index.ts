export {
  readJson,
  writeJson,
  prepareStep,
  gatherStep,
  finishScope,
  locateStep,
  workflowOfScope,
  withMirror,
  type ControlContext,
  type PrepareDecision,
} from './control-steps.ts';
export { stageStep, collectStep, expressionStep, type ToolStepOptions } from './tool-steps.ts';
export { createStoreMirror, objectLocation, objectKeyOf, OBJECT_LOCATION, type StoreMirror } from './store-files.ts';
