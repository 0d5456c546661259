// rpmgate console: progressive enhancement only. Every page works without this file; with it, .repo
// lines get a copy button and a form that asks for confirmation (data-confirm) asks before it is sent.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  for (const pre of document.querySelectorAll('pre[data-copy]')) {
    if (!navigator.clipboard) break;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', `Copy ${pre.getAttribute('data-copy')}`);
    button.addEventListener('click', () => {
      navigator.clipboard.writeText(pre.textContent).then(() => {
        button.textContent = 'Copied';
        setTimeout(() => (button.textContent = 'Copy'), 1500);
      });
    });
    pre.before(button);
  }
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  }
});
