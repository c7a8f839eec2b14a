/** Initials for an avatar: the first letters of the first and last words of a name. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = words[0]!.charAt(0);
  const last = words.length > 1 ? words[words.length - 1]!.charAt(0) : '';
  return (first + last).toUpperCase();
}

function luminance([r, g, b]: number[]): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
}

/** Contrast ratio of white text on an sRGB colour (WCAG 2 formula). */
export function contrastWithWhite(rgb: number[]): number {
  return 1.05 / (luminance(rgb) + 0.05);
}

function hash(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

/**
 * A colour derived from the user: their stored avatarColor when it is a hex colour, otherwise one
 * from their id; darkened until white initials reach a 4.5:1 contrast.
 */
export function avatarColor(user: { id: string; avatarColor?: string }): string {
  let rgb: number[];
  const hex = user.avatarColor && /^#([0-9a-f]{6})$/i.exec(user.avatarColor)?.[1];
  if (hex) {
    rgb = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  } else {
    const h = hash(user.id);
    rgb = [h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff];
  }
  while (contrastWithWhite(rgb) < 4.6) rgb = rgb.map((c) => Math.floor(c * 0.9));
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}
