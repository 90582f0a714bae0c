/** A frame as Wireshark's bytes pane shows it: offset, sixteen bytes in hex, and their ASCII. */
export function hexDump(bytes: Uint8Array): { offset: string; hex: string; ascii: string }[] {
  const lines: { offset: string; hex: string; ascii: string }[] = [];
  for (let o = 0; o < bytes.length; o += 16) {
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      const b = bytes[o + i];
      if (b === undefined) {
        hex += '   ';
        continue;
      }
      hex += b.toString(16).padStart(2, '0') + (i === 7 ? '  ' : ' ');
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push({ offset: o.toString(16).padStart(4, '0'), hex: hex.trimEnd(), ascii });
  }
  return lines;
}
