export * from './bytes.js';
export * from './errors.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './icmp.js';
export * from './stp.js';
