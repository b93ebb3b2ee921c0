import { describe, expect, it } from 'vitest';
import { summarisePerf } from './perf-summary.ts';

/** One `perf script` sample: a header line, then its call chain, leaf first. */
const sample = (id: string, thread: string, ...frames: string[]) => [`${thread} ${id} [001] 77129.311510:    2004008 cpu-clock:pppH: `, ...frames.map((f, i) => `\t    ${(0x7f00 + i).toString(16)} ${f}`), ''].join('\n');

describe('summarisePerf', () => {
  it("charges V8's own code to the nearest JavaScript caller, keeps kernel, GC and JSON apart, and counts only the labelled processes or threads", () => {
    const script = [
      sample('101/101', 'MainThread', 'Builtins_MapPrototypeDelete+0x480 (/x/bin/node)', "JS:*'remember file:///x/services/normalizer/dedupe.ts:32:11+0x1b5 (/tmp/perf-101.map)", 'JS:+fetch /x/node_modules/kafkajs/src/consumer/consumerGroup.js:446:14+0x64d (/tmp/perf-101.map)'),
      sample('101/101', 'MainThread', 'JS:*writeUVarInt /x/node_modules/kafkajs/src/protocol/encoder.js:366:15+0x12 (/tmp/perf-101.map)'),
      sample('101/101', 'MainThread', 'tcp_sendmsg+0x10 ([kernel.kallsyms])', "JS:*'_write node:internal/streams/writable:452:16+0x4 (/tmp/perf-101.map)"),
      sample('101/101', 'MainThread', 'v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>+0x9 (/x/bin/node)'),
      sample('101/101', 'MainThread', 'v8::internal::JsonParser<unsigned char>::ScanJsonString+0x3 (/x/bin/node)', 'JS:*parse file:///x/shared/schemas/readings.ts:169:39+0x7 (/tmp/perf-101.map)'),
      sample('101/105', 'V8Worker', 'uv_run+0x137 (/x/bin/node)'),
      sample('202', 'MainThread', 'Builtins_LoadIC+0x1 (/x/bin/node)'),
      sample('303/307', 'WorkerThread', 'Builtins_LoadIC+0x1 (/x/bin/node)'),
      sample('303/308', 'WorkerThread', 'Builtins_LoadIC+0x1 (/x/bin/node)'),
    ].join('');
    const [normaliser, absent, oneThread] = summarisePerf(script, new Map([[101, 'normaliser'], [404, 'absent'], [307, 'stages thread']]));
    expect(normaliser!.name).toBe('normaliser');
    expect(normaliser!.samples).toBe(6);
    expect(Object.fromEntries(normaliser!.byCategory.map(([c, share]) => [c, share * 6]))).toEqual({
      'services/normalizer/dedupe.ts': 1,
      kafkajs: 1,
      'kernel (system calls, network, page faults)': 1,
      'V8 garbage collection': 1,
      'V8 JSON': 1,
      'V8 and Node, no JavaScript caller': 1,
    });
    expect(absent).toEqual({ name: 'absent', samples: 0, byCategory: [] });
    expect(oneThread).toEqual({ name: 'stages thread', samples: 1, byCategory: [['V8 and Node, no JavaScript caller', 1]] });
  });
});
