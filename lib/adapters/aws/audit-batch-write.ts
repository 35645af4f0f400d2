// One BatchWriteItem of audit items, its JSON body written here. The SDK's own serializer walks
// every attribute of every item against the service's schema and stringifies the result through
// a replacer: the largest part of the CPU an audited request cost the agent. Audit items hold
// only strings and numbers in DynamoDB's attribute-value form (itemAttributes), and the JSON of
// such an input is the wire format as it is. Everything else (endpoint, headers, content length,
// SigV4 signing, retries, the response) is the SDK's as for any command.
import { type AttributeValue, BatchWriteItemCommand, type BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';

export function putItemsCommand(tableName: string, items: Record<string, AttributeValue>[]): BatchWriteItemCommand {
  const command = new BatchWriteItemCommand({ RequestItems: { [tableName]: items.map((Item) => ({ PutRequest: { Item } })) } });
  // The input as it reaches serialization (middleware before it may have changed it).
  let body: Buffer | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as BatchWriteItemCommandInput;
      // As bytes: the signer hashes them and the socket writes them without encoding the text twice.
      body = Buffer.from(JSON.stringify(input), 'utf8');
      // The SDK's serializer still writes the request (URL, headers) from the tables' names alone.
      const names = Object.fromEntries(Object.keys(input.RequestItems ?? {}).map((table) => [table, []]));
      return next({ ...args, input: { ...input, RequestItems: names } });
    },
    { step: 'serialize', priority: 'high', name: 'auditItemsInput' },
  );
  command.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { body: unknown }).body = body;
      return next(args);
    },
    { step: 'serialize', priority: 'low', name: 'auditItemsBody' },
  );
  return command;
}
