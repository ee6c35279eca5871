// <linux/if_tun.h> numbers shared by tap and macvtap fds.
export const TUNSETIFF = 0x400454ca;
export const TUNGETIFF = 0x800454d2;

export const IFF_TAP = 0x0002;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
