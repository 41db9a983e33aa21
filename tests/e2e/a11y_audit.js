// Accessibility audit run inside the page (no third-party script): lang, landmarks,
// heading order, link names, ids, and the WCAG 2.2 contrast ratio of every text.
// Returns {problems: [...], checked: number-of-text-elements}.
(() => {
  const problems = [];
  const html = document.documentElement;
  if (!html.lang) problems.push('html has no lang attribute');
  for (const name of ['header', 'nav', 'main', 'footer']) {
    if (document.querySelectorAll(name).length !== 1) problems.push(`landmark ${name} missing or repeated`);
  }
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')];
  if (headings.filter(h => h.tagName === 'H1').length !== 1) problems.push('not exactly one h1');
  let previous = 0;
  for (const h of headings) {
    const level = Number(h.tagName[1]);
    if (level > previous + 1) problems.push(`heading "${h.textContent}" skips from h${previous} to h${level}`);
    if (!h.textContent.trim()) problems.push('empty heading');
    previous = level;
  }
  for (const a of document.querySelectorAll('a')) {
    if (!(a.textContent.trim() || a.getAttribute('aria-label'))) problems.push(`link ${a.href} has no name`);
  }
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  if (new Set(ids).size !== ids.length) problems.push('duplicate ids');
  for (const el of document.querySelectorAll('[aria-labelledby]')) {
    if (!document.getElementById(el.getAttribute('aria-labelledby'))) problems.push('dangling aria-labelledby');
  }
  const rgb = (s) => { const m = s.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                       return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  let checked = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!text) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const fg = rgb(style.color), bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    checked += 1;
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} for "${text.slice(0, 40)}"`);
  }
  return {problems, checked};
})
