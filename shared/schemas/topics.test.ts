import { describe, expect, it } from 'vitest';
import { parseTopic, telemetryTopic, statusTopic, commandFilter } from './topics.ts';

describe('topic contract', () => {
  const d = { municipality: 'orestiada', kind: 'parking' as const, deviceId: 'bay-12' };
  it('builds and parses the device topics', () => {
    expect(telemetryTopic(d)).toBe('city/orestiada/parking/bay-12/telemetry');
    expect(statusTopic(d)).toBe('city/orestiada/parking/bay-12/status');
    expect(commandFilter(d)).toBe('city/orestiada/parking/bay-12/cmd/#');
    expect(parseTopic(telemetryTopic(d))).toEqual({ ...d, channel: 'telemetry', rest: [] });
    expect(parseTopic('city/orestiada/parking/bay-12/cmd/open/now')).toEqual({ ...d, channel: 'cmd', rest: ['open', 'now'] });
  });
  it.each(['', 'city', 'town/a/energy/b/telemetry', 'city/a/energy/b', 'city/a/energy/B/telemetry', 'city/a/energy/-b/telemetry', 'city/a/energy/b/status/x'])(
    'rejects %j',
    (t) => expect(parseTopic(t)).toBeUndefined(),
  );
});
