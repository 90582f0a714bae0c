/**
 * API errors: every failure leaves the server as JSON `{error, details}` with a status that says
 * whose fault it is (400 bad input naming the field, 404, 409, 413, 415), never a stack trace.
 */
import type { ErrorDetail } from '../contract/index.js';
import { type LabIssue, type PathSegment, formatPath } from '../devices/lab/schema.js';

export type { ErrorDetail };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details: ErrorDetail[] = []) => new ApiError(400, message, details);
export const notFound = (message: string, details: ErrorDetail[] = []) => new ApiError(404, message, details);
export const conflict = (message: string, details: ErrorDetail[] = []) => new ApiError(409, message, details);

/** A field error in one line: `badField('name', 'a name is ...')`. */
export function badField(field: string, message: string, status = 400): ApiError {
  return new ApiError(status, `${field}: ${message}`, [{ field, message }]);
}

/**
 * Lab issues as error details. `prefix` is where the request body sits in the lab file
 * (`['nodes', 'pc3']`): paths under it are given relative to the body, the rest as lab paths.
 */
export function issueDetails(issues: readonly LabIssue[], prefix: readonly PathSegment[] = []): ErrorDetail[] {
  return issues.map((i) => {
    const path = formatPath(i.path);
    const inside = prefix.length > 0 && prefix.every((seg, k) => i.path[k] === seg);
    if (!inside) return { field: path, message: i.message };
    const rel = i.path.slice(prefix.length);
    return { field: rel.length === 0 ? '(body)' : formatPath(rel), path, message: i.message };
  });
}
