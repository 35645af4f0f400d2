// Placeholder until the auth function's composition root lands (issue 9): the stack synthesizes against it.
export async function handler(): Promise<never> {
  throw new Error('the auth function is not built yet');
}
