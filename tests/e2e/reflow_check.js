// Reflow at the current viewport (WCAG 1.4.10): empty when the page does not scroll
// sideways; else how far it does and up to five elements sticking out past the right
// edge that no scrolling or clipping box of their own holds in (what to fix).
() => {
  const root = document.documentElement;
  const over = root.scrollWidth - root.clientWidth;
  if (over <= 0) return [];
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const out = [...document.body.querySelectorAll('*')].filter(
    e => e.getBoundingClientRect().right > root.clientWidth + 0.5 && !clipped(e));
  return [`scrolls sideways by ${over} CSS px at width ${root.clientWidth}`,
          ...out.slice(0, 5).map(
            e => `${name(e)} ends at ${Math.round(e.getBoundingClientRect().right)} px`)];
}
