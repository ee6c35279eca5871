// The kernel's answers to requests: per sequence number an errno (0 = done)
// and, with NETLINK_EXT_ACK, its own words about what was wrong.
import { cstr, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, parseAttrs, readI32, readU32, type Received } from './wire.js';

export interface Ack {
  readonly seq: number;
  /** 0: done; else the positive errno. */
  readonly errno: number;
  /** NLMSGERR_ATTR_MSG, when the kernel said why. */
  readonly message?: string;
}

const NLMSGERR_ATTR_MSG = 1;

/** Undefined for a message that is no ack (a dump part, a notification). */
export const decodeAck = (m: Received): Ack | undefined => {
  if (m.type !== NLMSG_ERROR || m.payload.length < 4 + NLMSG_HDRLEN) return undefined;
  const error = readI32(m.payload, 0);
  // The request's header, then its payload unless capped, then the TLVs.
  const requestLen = (m.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : readU32(m.payload, 4);
  const seq = readU32(m.payload, 4 + 8);
  const base: Ack = { seq, errno: error === 0 ? 0 : -error };
  if ((m.flags & NLM_F_ACK_TLVS) === 0) return base;
  const tlvs = parseAttrs(m.payload.subarray(4 + ((requestLen + 3) & ~3)));
  const msg = tlvs.get(NLMSGERR_ATTR_MSG);
  return msg === undefined ? base : { ...base, message: cstr(msg) };
};

export const isDone = (m: Received): boolean => m.type === NLMSG_DONE;
