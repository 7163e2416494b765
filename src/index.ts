/** gptdoctor as a library: the same objects the CLI prints with --json. */
export { openDisk, sniffContainer } from './disk/open.js';
export type { BlockSource, SourceFormat } from './disk/block-source.js';
export { DiskError } from './disk/block-source.js';
export { FileSource } from './disk/file-source.js';
export { MemorySource } from './disk/memory-source.js';
export { loadGpt } from './read/load-gpt.js';
export type { LoadedGpt, GptCopy } from './read/load-gpt.js';
export { inspectDisk, inspectDisk as inspect, withDisk } from './api.js';
export type { InspectReport, PartitionReport, HeaderReport } from './report/inspect-report.js';
export * from './gpt/guid.js';
export * from './gpt/header.js';
export * from './gpt/entries.js';
export * from './gpt/mbr.js';
export * from './gpt/attributes.js';
export * from './gpt/partition-types.js';
export { crc32 } from './gpt/crc32.js';
