import fs from 'node:fs';
import type { Frame, Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact?: string;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/**
 * Fluent UI's focus manager (tabster) puts a focusable, aria-hidden <i data-tabster-dummy> at each
 * end of a tab list or toolbar, whose only job is to pass focus on at once; Microsoft's own
 * scanner (Accessibility Insights) leaves those out of aria-hidden-focus, and so does this.
 */
const tabsterSentinel = (v: AxeViolation, node: AxeViolation['nodes'][number]) => v.id === 'aria-hidden-focus' && /^<i [^>]*data-tabster-dummy/.test(node.html);

/** axe-core's scan of the page (or of a framed page, such as the tab in Teams) as it is now: the serious and critical violations, by rule and element. */
export async function accessibilityProblems(page: Page | Frame): Promise<string[]> {
  // What is still fading in (a dialog opening) would be judged on its colours half-way.
  // (A spinner turns for ever: only the animations that end are waited for.)
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => a.effect?.getTiming().iterations !== Infinity)
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (an injected <script> it would refuse).
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .map((v) => ({ ...v, nodes: v.nodes.filter((n) => !tabsterSentinel(v, n)) }))
    .filter((v) => v.nodes.length && (v.impact === 'serious' || v.impact === 'critical'))
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
