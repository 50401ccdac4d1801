export { processStartTime, isSameProcessAlive } from './process-identity.ts';
export { tiedToThisProcess, findExecutable } from './tied-process.ts';
export { claimWorkDir, sweepAbandonedWorkDirs } from './work-dirs.ts';
