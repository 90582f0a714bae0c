/** "1 host", "2 hosts", "1,024 frames": a count and its noun, which takes an s unless the count is 1. */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? noun : many}`;
}
