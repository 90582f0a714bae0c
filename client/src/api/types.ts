/**
 * What the client adds to the API contract. The API's shapes (views, request bodies, WebSocket
 * messages) are the zod-inferred types of contract/, imported from there as types; the browser
 * loads neither contract/ nor zod, so the lists the client needs at run time are kept here.
 */
import type { Impairments } from '../../../contract/index.js';

/** A link's impairments in the order the link inspector shows them. */
export const IMPAIRMENT_KEYS = ['delay', 'jitter', 'loss', 'duplicate', 'corrupt', 'rate'] as const satisfies readonly (keyof Impairments)[];
