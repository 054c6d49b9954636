import { describe, expect, it } from 'vitest';
import * as imported from '@aws-sdk/client-cloudwatch-logs';
import { sdk } from '../../../src/aws/sdk.js';

describe('sdk: the CloudWatch Logs package loaded with require', () => {
  it('is the same module an application imports: one client class, one set of commands', () => {
    expect(sdk.CloudWatchLogsClient).toBe(imported.CloudWatchLogsClient);
    expect(sdk.PutLogEventsCommand).toBe(imported.PutLogEventsCommand);
    expect(sdk.CreateLogStreamCommand).toBe(imported.CreateLogStreamCommand);
  });
});
