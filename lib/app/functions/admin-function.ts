// Placeholder until the admin function's composition root lands (issue 9): the stack synthesizes against it.
export async function handler(): Promise<never> {
  throw new Error('the admin function is not built yet');
}
