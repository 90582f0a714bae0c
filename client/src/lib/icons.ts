/**
 * Device and network icons (SVG), shared by the palette and the canvas so both look alike.
 * Drawn in the manner of network diagrams: a monitor for a host, a box with arrows for a
 * switch, a disc with crossing arrows for a router.
 */
import type { NetworkType, NodeKind } from '../../../contract/index.js';

const stroke = '#1e293b';

const SVG: Record<NodeKind | NetworkType, string> = {
  host: `<rect x="8" y="10" width="48" height="32" rx="4" fill="#e0ecff" stroke="${stroke}" stroke-width="3"/>
    <rect x="13" y="15" width="38" height="22" rx="1" fill="#93b4f5"/>
    <path d="M26 42v8M38 42v8M20 52h24" stroke="${stroke}" stroke-width="3" stroke-linecap="round"/>`,
  switch: `<rect x="4" y="18" width="56" height="28" rx="5" fill="#d9f2e6" stroke="${stroke}" stroke-width="3"/>
    <path d="M14 27h22m0 0-5-4m5 4-5 4M50 37H28m0 0 5-4m-5 4 5 4" stroke="#0f5132" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,
  router: `<ellipse cx="32" cy="32" rx="26" ry="26" fill="#fde7d3" stroke="${stroke}" stroke-width="3"/>
    <path d="M20 20l9 9m-9-9v6m0-6h6M44 44l-9-9m9 9v-6m0 6h-6M44 20l-9 9m9-9h-6m6 0v6M20 44l9-9m-9 9h6m-6 0v-6" stroke="#7c2d12" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,
  hub: `<rect x="4" y="20" width="56" height="24" rx="5" fill="#ede9fe" stroke="${stroke}" stroke-width="3"/>
    <circle cx="16" cy="32" r="3.5" fill="#5b21b6"/><circle cx="27" cy="32" r="3.5" fill="#5b21b6"/><circle cx="38" cy="32" r="3.5" fill="#5b21b6"/><circle cx="49" cy="32" r="3.5" fill="#5b21b6"/>`,
  cloud: `<path d="M19 48h28a11 11 0 0 0 1-22 15 15 0 0 0-28-3 12 12 0 0 0-1 25z" fill="#e0f2fe" stroke="${stroke}" stroke-width="3" stroke-linejoin="round"/>`,
  nat: `<rect x="4" y="14" width="56" height="36" rx="8" fill="#ede9fe" stroke="#5b21b6" stroke-width="3"/>
    <path d="M14 32h26m0 0-6-6m6 6-6 6M46 22v20" stroke="#5b21b6" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/>`,
  'host-only': `<rect x="4" y="14" width="56" height="36" rx="8" fill="#ccfbf1" stroke="#0f766e" stroke-width="3"/>
    <rect x="22" y="22" width="20" height="14" rx="2" fill="none" stroke="#0f766e" stroke-width="3"/><path d="M26 42h12" stroke="#0f766e" stroke-width="3" stroke-linecap="round"/>`,
  bridged: `<rect x="4" y="14" width="56" height="36" rx="8" fill="#ffedd5" stroke="#c2410c" stroke-width="3"/>
    <path d="M12 38c6-12 34-12 40 0M20 32v6M32 29v9M44 32v6" stroke="#c2410c" stroke-width="3" fill="none" stroke-linecap="round"/>`,
  segment: `<rect x="4" y="14" width="56" height="36" rx="8" fill="#f1f5f9" stroke="#475569" stroke-width="3"/>
    <path d="M10 32h44M20 32v-8M32 32v8M44 32v-8" stroke="#475569" stroke-width="3" fill="none" stroke-linecap="round"/>`,
};

export function iconSvg(kind: NodeKind | NetworkType): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">${SVG[kind]}</svg>`;
}

export function iconUrl(kind: NodeKind | NetworkType): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(iconSvg(kind))}`;
}

export const NETWORK_LABEL: Record<NetworkType, string> = { nat: 'NAT', 'host-only': 'Host-only', bridged: 'Bridged', segment: 'Segment' };
export const NODE_LABEL: Record<NodeKind, string> = { host: 'Host', switch: 'Switch', router: 'Router', hub: 'Hub', cloud: 'Cloud' };

const bitmaps = new Map<string, string>();

/**
 * The icons as PNG bitmaps behind short blob: URLs, for the canvas. Chromium rasterizes an SVG
 * image each time a canvas draws it, a bitmap it just copies; and Cytoscape hashes each node's
 * style (image URL included) to cache its texture, so a short URL keeps a 1,000-node lab's
 * first frame quick. Drawn at `size` pixels (twice the node's size, for sharp zoom). Falls back
 * to the SVG when the page cannot rasterize.
 */
export async function rasterizeIcons(size = 128): Promise<void> {
  const kinds = Object.keys(SVG) as (NodeKind | NetworkType)[];
  await Promise.all(
    kinds.map(async (k) => {
      if (bitmaps.has(k)) return;
      try {
        const img = new Image(size, size);
        img.src = iconUrl(k);
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = size;
        canvas.height = size;
        canvas.getContext('2d')!.drawImage(img, 0, 0, size, size);
        const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
        if (blob) bitmaps.set(k, URL.createObjectURL(blob));
      } catch {
        // keep the SVG
      }
    }),
  );
}

export function canvasIconUrl(kind: NodeKind | NetworkType): string {
  return bitmaps.get(kind) ?? iconUrl(kind);
}
