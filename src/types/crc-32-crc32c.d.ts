// crc-32 ships CRC-32C (Castagnoli) beside CRC-32 but types only the latter. It is CommonJS, so
// an ES import sees module.exports as the default export.
declare module 'crc-32/crc32c.js' {
  const CRC32C: { buf(data: Uint8Array, seed?: number): number };
  export default CRC32C;
}
