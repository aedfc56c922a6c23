// Draws the Teams app icons into appPackage/: color.png (192x192, white glyph on the accent colour)
// and outline.png (32x32, white glyph on transparency). Run once after changing the glyph:
//   npx tsx scripts/icons.ts
// The PNGs are committed; packaging only reads them.
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';

/** The color icon's background; the manifest's accentColor must match it. */
const ACCENT = [0x0f, 0x6c, 0xbd] as const; // #0F6CBD

type Shape = (x: number, y: number) => boolean;

function roundedRect(left: number, top: number, right: number, bottom: number, radius: number): Shape {
  return (x, y) => {
    if (x < left || x > right || y < top || y > bottom) return false;
    const cx = Math.min(Math.max(x, left + radius), right - radius);
    const cy = Math.min(Math.max(y, top + radius), bottom - radius);
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
  };
}

function without(outer: Shape, inner: Shape): Shape {
  return (x, y) => outer(x, y) && !inner(x, y);
}

function triangle(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): Shape {
  const side = (px: number, py: number, qx: number, qy: number, x: number, y: number) => (qx - px) * (y - py) - (qy - py) * (x - px);
  return (x, y) => {
    const d1 = side(ax, ay, bx, by, x, y);
    const d2 = side(bx, by, cx, cy, x, y);
    const d3 = side(cx, cy, ax, ay, x, y);
    return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
  };
}

// The glyph, on a unit square: an archive box (lid and body) holding a chat bubble, for
// "mobile messages kept in the mailbox".
const stroke = 0.085;
const lid = roundedRect(0.06, 0.1, 0.94, 0.32, 0.05);
const body = without(roundedRect(0.13, 0.32, 0.87, 0.92, 0.07), roundedRect(0.13 + stroke, 0.32, 0.87 - stroke, 0.92 - stroke, 0.03));
const bubble = roundedRect(0.3, 0.44, 0.7, 0.68, 0.06);
const tail = triangle(0.36, 0.66, 0.48, 0.66, 0.34, 0.8);
const glyph: Shape = (x, y) => lid(x, y) || body(x, y) || bubble(x, y) || tail(x, y);

/** Share of a pixel the glyph covers, from a 4x4 grid of samples, so edges come out smooth. */
function coverage(px: number, py: number, origin: number, span: number): number {
  let hits = 0;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const x = (px + (i + 0.5) / 4 - origin) / span;
      const y = (py + (j + 0.5) / 4 - origin) / span;
      if (glyph(x, y)) hits++;
    }
  }
  return hits / 16;
}

/** The glyph in white over the accent colour, inside Teams' safe area (the middle 120 of 192 pixels). */
function drawColorIcon(): PNG {
  const png = new PNG({ width: 192, height: 192 });
  for (let y = 0; y < 192; y++) {
    for (let x = 0; x < 192; x++) {
      const c = coverage(x, y, 36, 120);
      const i = (y * 192 + x) * 4;
      for (let k = 0; k < 3; k++) png.data[i + k] = Math.round(ACCENT[k] + (255 - ACCENT[k]) * c);
      png.data[i + 3] = 255;
    }
  }
  return png;
}

/** The glyph in pure white; everything else fully transparent, as Teams requires of the outline icon. */
function drawOutlineIcon(): PNG {
  const png = new PNG({ width: 32, height: 32 });
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const c = coverage(x, y, 1, 30);
      const i = (y * 32 + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = 255;
      png.data[i + 3] = Math.round(255 * c);
    }
  }
  return png;
}

function main(): void {
  const dir = path.resolve(__dirname, '..', 'appPackage');
  fs.writeFileSync(path.join(dir, 'color.png'), PNG.sync.write(drawColorIcon()));
  fs.writeFileSync(path.join(dir, 'outline.png'), PNG.sync.write(drawOutlineIcon()));
  process.stdout.write(`wrote ${path.join(dir, 'color.png')} and outline.png\n`);
}

if (require.main === module) main();
