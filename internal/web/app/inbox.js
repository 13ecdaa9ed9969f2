export function showInbox(view) { view.textContent = 'Inbox'; }
