// The two escapes a generated XML document needs: text and single-quoted
// attribute values. Nothing else is ever interpolated.
export const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const xmlAttr = (s: string): string => xmlText(s).replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** An empty element with attributes in the order given; undefined values are left out. */
export const emptyElement = (name: string, attrs: readonly (readonly [string, string | number | undefined])[]): string =>
  `<${name}${attrs.flatMap(([k, v]) => (v === undefined ? [] : [` ${k}='${xmlAttr(String(v))}'`])).join('')}/>`;
