// Local mode's data directory as tctl and npm start both know it: its default place and the
// admin identity npm start renews there. Its own module, so tctl reads these without loading
// local mode (dynalite, s3rver, the agent).

/** Where npm start keeps users, roles, keys and audit, and where tctl looks for the admin identity. */
export const DEFAULT_DATA_DIR = './.kubeport';

/** The admin identity (certificate, key, API address) npm start writes into the data directory. */
export const ADMIN_IDENTITY_FILE = 'admin-identity.json';
