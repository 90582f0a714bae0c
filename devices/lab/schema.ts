/**
 * The lab file and its model, as other code imports them. The parts live by concern:
 * file-schema.ts (the zod schemas of lab.yaml), issues.ts (how problems are worded and located),
 * model.ts (the normalized model) and normalize.ts (`validateLab`: file -> model).
 */
export * from './file-schema.js';
export { type LabIssue, type PathSegment, describeValue, describeZodIssues, formatPath } from './issues.js';
export * from './model.js';
export { validateLab } from './normalize.js';
