/** The API's error answer: every failure is `{error, details}` with the field at fault. */
import { z } from 'zod';

export const ErrorDetailSchema = z.strictObject({
  field: z.string().optional().meta({ description: 'The field at fault inside the request body (interfaces.eth0.ip), (body), or a URL parameter' }),
  path: z.string().optional().meta({ description: 'Where the field is in lab.yaml, when the body is part of a lab' }),
  message: z.string(),
});
export const ErrorSchema = z.strictObject({
  error: z.string(),
  details: z.array(ErrorDetailSchema),
});

export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;
export type ErrorBody = z.infer<typeof ErrorSchema>;
