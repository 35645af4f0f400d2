// Fields every resource shares: its name and metadata block.
import * as z from 'zod';

export const resourceName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-zA-Z0-9@._-]+$/, 'use letters, digits, @ . _ and - only');

export const stringList = z.array(z.string());

export const metadata = z.object({
  name: resourceName,
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
