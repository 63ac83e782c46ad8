/** The CRC16 hash slot ioredis computes for Redis Cluster, which ships without typings of its own. */
declare module 'cluster-key-slot' {
  /** The hash slot (0–16383) of a key, honouring a `{hash tag}`. */
  export default function calculateSlot(key: string | Buffer): number;
  /** The slot all these keys share, or -1 when they do not share one. */
  export function generateMulti(keys: Array<string | Buffer>): number;
}
