/** What every case shares: fake credentials, region. The endpoint URL comes from the driver. */
export const REGION = 'us-east-1';
/**
 * Fake credentials. Not frozen: the SDK v3 records where credentials came from by writing
 * `credentials.$source` onto the object it is given.
 */
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
