// Where npm start leaves the admin identity tctl signs with. Its own module, so tctl reads the
// name without loading local mode (dynalite, s3rver, the agent) just for it.

/** The local-mode data directory, unless --data-dir says otherwise (npm start and tctl alike). */
export const DEFAULT_DATA_DIR = './.kubeport';

/** The admin identity's file name inside the data directory. */
export const ADMIN_IDENTITY_FILE = 'admin-identity.json';
