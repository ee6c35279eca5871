// struct ifreq as the kernel reads it: ifr_name[IFNAMSIZ] then a union (a
// pointer, or short flags). 40 bytes on 64-bit ABIs; the kernel copies only
// sizeof(struct ifreq), so 40 is enough everywhere.
import { endianness } from 'node:os';
import * as E from 'fp-ts/lib/Either.js';
import type { SysError } from '../errors.js';
import { POINTER_SIZE } from './libc.js';

export const IFNAMSIZ = 16;
export const IFREQ_SIZE = 40;
const UNION_OFFSET = IFNAMSIZ;
const LITTLE = endianness() === 'LE';

/**
 * Bytes the kernel's dev_valid_name refuses: '/', ':', NUL and what its
 * isspace() calls space, which includes Latin-1 NBSP (0xa0) - so a UTF-8
 * name containing e.g. 'à' (c3 a0) cannot exist either.
 */
const isForbiddenByte = (b: number): boolean => b === 0x2f || b === 0x3a || b === 0 || b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0xa0;

const EXPECTED = '1 to 15 bytes of UTF-8, no "/", ":", NUL or whitespace, not "." or ".."';

/** A link name as the kernel will see it: its UTF-8 bytes, checked like dev_valid_name. */
export const encodeLinkName = (name: string): E.Either<SysError, Buffer> => {
  const bytes = Buffer.from(name, 'utf8');
  const ok =
    bytes.toString('utf8') === name && // refuses lone surrogates, which UTF-8 cannot carry
    bytes.length >= 1 &&
    bytes.length < IFNAMSIZ &&
    name !== '.' &&
    name !== '..' &&
    !bytes.some(isForbiddenByte);
  return ok ? E.right(bytes) : E.left({ _tag: 'BadInput', what: 'link name', input: name, expected: EXPECTED });
};

const withName = (name: Buffer): Buffer => {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  name.copy(ifr, 0);
  return ifr;
};

/** ifreq whose union holds ifr_data, a pointer to a command struct (SIOCETHTOOL). */
export const ifreqWithPointer = (name: Buffer, address: bigint): Buffer => {
  const ifr = withName(name);
  if (POINTER_SIZE === 8) {
    if (LITTLE) ifr.writeBigUInt64LE(address, UNION_OFFSET);
    else ifr.writeBigUInt64BE(address, UNION_OFFSET);
  } else if (LITTLE) ifr.writeUInt32LE(Number(address), UNION_OFFSET);
  else ifr.writeUInt32BE(Number(address), UNION_OFFSET);
  return ifr;
};

/** ifreq whose union holds ifr_flags, a short (TUNSETIFF, TUNGETIFF). */
export const ifreqWithFlags = (name: Buffer, flags: number): Buffer => {
  const ifr = withName(name);
  if (LITTLE) ifr.writeUInt16LE(flags, UNION_OFFSET);
  else ifr.writeUInt16BE(flags, UNION_OFFSET);
  return ifr;
};

export const ifreqFlags = (ifr: Buffer): number => (LITTLE ? ifr.readUInt16LE(UNION_OFFSET) : ifr.readUInt16BE(UNION_OFFSET));

/** ifr_name as written by the kernel (TUNGETIFF): bytes up to the first NUL. */
export const ifreqName = (ifr: Buffer): string => {
  const end = ifr.indexOf(0);
  return ifr.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end).toString('utf8');
};

/** A native-endian u32 (ethtool command structs). */
export const writeU32 = (buf: Buffer, value: number, offset: number): void => {
  if (LITTLE) buf.writeUInt32LE(value, offset);
  else buf.writeUInt32BE(value, offset);
};

/** A NUL-terminated char[len] field, decoded as UTF-8. */
export const cString = (buf: Buffer, offset: number, len: number): string => {
  const field = buf.subarray(offset, offset + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? len : end).toString('utf8');
};
