"""Two small browser-side widgets (anywidget): the page's theme, and a chat box where Enter sends.

`PageTheme.dark` follows the page (and `PageTheme.width` the app's width, for plots): JupyterLab and Voila mark the body with `data-jp-theme-light`
("false" under a dark theme), and the probe watches that attribute, so switching the theme in
JupyterLab's menu reaches the kernel at once and plots can change their template.

`ChatInput` is a textarea whose Enter sends (Shift+Enter is a new line), as in the chat apps users
know; `value` syncs as the user types and `submits` counts Enter presses for Python to observe.
"""

from __future__ import annotations

import anywidget
import traitlets

_THEME_JS = """
function render({ model, el }) {
  const read = () => {
    const light = document.body.dataset.jpThemeLight;
    const dark = light === undefined ? window.matchMedia('(prefers-color-scheme: dark)').matches : light === 'false';
    if (model.get('dark') !== dark) { model.set('dark', dark); model.save_changes(); }
  };
  read();
  const watch = new MutationObserver(read);
  watch.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light'] });
  // The width the app has on the page (this invisible element spans it), for plots that size themselves.
  const measure = () => {
    const width = Math.round(el.getBoundingClientRect().width);
    if (width > 0 && width !== model.get('width')) { model.set('width', width); model.save_changes(); }
  };
  const resize = new ResizeObserver(measure);
  resize.observe(el);
  measure();
  return () => { watch.disconnect(); resize.disconnect(); };
}
export default { render };
"""

_INPUT_JS = """
function render({ model, el }) {
  const box = document.createElement('textarea');
  box.placeholder = model.get('placeholder');
  box.rows = 3;
  box.setAttribute('aria-label', 'Message (Enter sends, Shift+Enter for a new line)');
  box.style.cssText = 'width:100%;box-sizing:border-box;resize:vertical;font:inherit;padding:6px;' +
    'color:var(--jp-ui-font-color1,inherit);background:var(--jp-layout-color1,inherit);' +
    'border:1px solid var(--jp-border-color1,#9ca3af);border-radius:2px';
  box.value = model.get('value');
  box.addEventListener('input', () => { model.set('value', box.value); model.save_changes(); });
  box.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    model.set('value', box.value);
    model.set('submits', model.get('submits') + 1);
    model.save_changes();
  });
  model.on('change:value', () => { if (box.value !== model.get('value')) box.value = model.get('value'); });
  model.on('change:disabled', () => { box.disabled = model.get('disabled'); });
  el.style.width = '100%';
  el.appendChild(box);
}
export default { render };
"""


class PageTheme(anywidget.AnyWidget):
    """Invisible; `dark` is True while the page shows a dark theme, `width` the app's width in pixels (0: unknown)."""

    _esm = _THEME_JS
    dark = traitlets.Bool(False).tag(sync=True)
    width = traitlets.Int(0).tag(sync=True)


class ChatInput(anywidget.AnyWidget):
    """A message box: Enter sends (`submits` goes up by one), Shift+Enter is a new line."""

    _esm = _INPUT_JS
    value = traitlets.Unicode("").tag(sync=True)
    placeholder = traitlets.Unicode("Ask something… (Enter sends, Shift+Enter new line)").tag(sync=True)
    submits = traitlets.Int(0).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
