// Small DOM helpers: the app builds its views with h() and never sets
// innerHTML, so no text from the server or a message is parsed as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

// status announces a message to screen readers and shows it; kind "error"
// uses the assertive region.
export function status(text, kind = 'info') {
  const el = document.getElementById(kind === 'error' ? 'alert' : 'status');
  el.textContent = '';
  el.className = 'toast ' + kind;
  // A fresh text node is what screen readers announce.
  setTimeout(() => { el.textContent = text; }, 10);
  clearTimeout(status.timer);
  if (text) status.timer = setTimeout(() => { el.textContent = ''; el.className = 'toast'; }, kind === 'error' ? 12000 : 5000);
}

// fail shows an error in words: the API's detail, or the exception's message.
export function fail(err) {
  console.error(err);
  status(err && err.message ? err.message : String(err), 'error');
}

// form builds a labelled form: fields are [name, label, attrs].
export function form(fields, submitLabel, onsubmit, extra = {}) {
  const f = h('form', { class: 'form', ...extra, onsubmit: async (e) => {
    e.preventDefault();
    const btn = f.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const values = Object.fromEntries(new FormData(f).entries());
      await onsubmit(values, f);
    } catch (err) { fail(err); } finally { btn.disabled = false; }
  } },
  fields.map(([name, label, attrs = {}]) => {
    const id = 'f-' + name + '-' + Math.random().toString(36).slice(2, 7);
    const input = attrs.options
      ? h('select', { id, name }, attrs.options.map(([v, l]) => h('option', { value: v }, l)))
      : attrs.multiline ? h('textarea', { id, name, rows: 3, ...attrs, multiline: null })
      : h('input', { id, name, type: 'text', ...attrs });
    return h('div', { class: 'field' }, h('label', { for: id }, label), input);
  }),
  h('button', { type: 'submit' }, submitLabel));
  return f;
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function bytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  return (n / (1 << 20)).toFixed(1) + ' MiB';
}
