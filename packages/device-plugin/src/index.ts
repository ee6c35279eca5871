// The macvtap device plugin: see README (issue 11).
export {};
