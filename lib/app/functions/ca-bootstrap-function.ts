// Placeholder until the ca-bootstrap function's composition root lands (issue 9): the stack synthesizes against it.
export async function handler(): Promise<never> {
  throw new Error('the ca-bootstrap function is not built yet');
}
