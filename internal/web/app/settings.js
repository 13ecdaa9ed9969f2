export function showSettings(view) { view.textContent = 'Settings'; }
